"""Which manifest files stand alone (scanner/loaders/manifest_groups.py): conservative, by their text."""

from __future__ import annotations

import pytest

from scanner.loaders.manifest_groups import manifest_units, stands_alone

DEPLOYMENT = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: v1
kind: Service  # the web front
metadata:
  name: web
"""


def test_core_objects_of_other_kinds_stand_alone() -> None:
    assert stands_alone("k8s/app/deployment.yaml", DEPLOYMENT)
    assert stands_alone("pvc.yaml", b"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: d\n")


@pytest.mark.parametrize("name, text", [
    ("ns.yaml", b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"),  # ACK reads its annotations
    ("pv.yaml", b"apiVersion: v1\nkind: PersistentVolume\nspec:\n  storageClassName: fast\n"),  # linked to a class
    ("sc.yaml", b"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast\n"),
    ("bucket.yaml", b"apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: b\n"),
    ("list.yaml", b"apiVersion: v1\nkind: List\nitems: []\n"),
    ("chart/templates/d.yaml", DEPLOYMENT),  # a chart template: judged with its Chart.yaml
    ("chart/Chart.yaml", b"apiVersion: v2\nname: c\n"),
    ("flow.yaml", b'{"apiVersion": "v1", "kind": "Namespace"}\n'),
    ("quoted.yaml", b'"kind": Namespace\napiVersion: v1\n'),
    ("anchor.yaml", b"apiVersion: v1\nkind: &k Namespace\n"),
    ("tagged.yaml", b"apiVersion: v1\nkind: !!str Namespace\n"),
    ("marker.yaml", b"--- {apiVersion: v1, kind: Namespace}\n" + DEPLOYMENT),
    ("nokind.yaml", b"apiVersion: v1\nmetadata:\n  name: x\n"),
    ("twokinds.yaml", b"apiVersion: v1\nkind: Service\nkind: Namespace\n"),
    ("seq.yaml", b"- apiVersion: v1\n  kind: Namespace\n"),
    ("utf16.yaml", "apiVersion: v1\nkind: Service\n".encode("utf-16")),
    ("-", DEPLOYMENT),  # standard input is judged with the rest
])
def test_anything_else_or_anything_unsure_is_shared(name: str, text: bytes) -> None:
    assert not stands_alone(name, text)


def test_units_put_every_shared_file_in_one_unit_first() -> None:
    files = [("a.yaml", DEPLOYMENT), ("ns.yaml", b"apiVersion: v1\nkind: Namespace\n"), ("b.yaml", DEPLOYMENT),
             ("sc.yaml", b"apiVersion: storage.k8s.io/v1\nkind: StorageClass\n")]
    assert manifest_units(files) == [[1, 3], [0], [2]]
    assert manifest_units([]) == []
