"""Which Kubernetes manifest files can be judged alone, read from their text (no YAML parse).

Manifests are judged across files only through a few kinds of object: the Kubernetes loader links a
PersistentVolume to the StorageClass it names, takes an ACK resource's region from its Namespace,
resolves operator references, selectors and owners by name among operator objects (ACK, Config
Connector, ASO, Crossplane), links RBAC bindings to their roles and the EKS aws-auth ConfigMap to the
bindings (scanner/loaders/kubernetes_rbac.py), renders kustomizations with the files they list
(scanner/loaders/kustomize.py), and skips the templates of a Helm chart whose Chart.yaml is among the
files. A file whose every object is a core Kubernetes object of another kind (Deployment, Service,
ConfigMap, StatefulSet, PersistentVolumeClaim...) takes part in none of these, so its result depends on
its own bytes only: it can be a unit of its own (a result-cache entry, a shard). Everything else stays
in one shared unit, as all manifests were before.

The test is textual and conservative: any line it cannot vouch for (flow style, a quoted or complex
top-level key, anchors, tags, a value that is not a plain name, a document without both ``apiVersion``
and ``kind``) keeps the file in the shared unit. Being wrong that way costs speed, never a finding.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# Core API groups whose kinds the loader never links across files (besides the kinds below).
_CORE_API = frozenset({
    "v1", "apps/v1", "batch/v1", "batch/v1beta1", "networking.k8s.io/v1", "policy/v1",
    "rbac.authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta2",
})
# Core kinds that do take part in a cross-file judgement (or hold other objects).
# RBAC objects: a binding is judged with the role it names, aws-auth with every binding (RES006).
_SHARED_KINDS = frozenset({"Namespace", "PersistentVolume", "List", "Role", "ClusterRole", "RoleBinding",
                           "ClusterRoleBinding"})
# scanner/loaders/kustomize.py KUSTOMIZATION_NAMES (not imported: a scan without one loads neither module)
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_NAME = re.compile(rb"^[A-Za-z][A-Za-z0-9]*$")
_API = re.compile(rb"^[a-z0-9./-]+$")
# A top-level line the test cannot vouch for: flow style, quoted/complex keys, anchors, aliases, tags,
# a top-level sequence, a directive.
_UNSURE = (b"{", b"[", b"?", b"&", b"*", b"!", b"-", b'"', b"'", b"%", b"|", b">")


def stands_alone(rel_path: str, data: bytes) -> bool:
    """Whether the file's objects can be judged without any other file's (see the module doc)."""
    path = PurePosixPath(rel_path)
    if rel_path == "-" or "templates" in path.parts[:-1] or path.name == "Chart.yaml":
        return False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data or b"aws-auth" in data:
        return False  # aws-auth: the EKS ConfigMap is judged with the cluster's bindings
    apis: list[bytes] = []
    kinds: list[bytes] = []
    for raw in data.splitlines():
        line = raw.rstrip()
        if not line or line[:1] in (b" ", b"\t", b"#"):
            continue
        if line.startswith((b"---", b"...")):
            rest = line[3:].strip()
            if rest and not rest.startswith(b"#"):
                return False  # content on the document marker's line
            continue
        if line.startswith(_UNSURE):
            return False
        key, sep, value = line.partition(b":")
        if not sep:
            return False  # a plain scalar document, or a key continued on the next line
        if key in (b"apiVersion", b"kind"):
            value = value.split(b" #", 1)[0].strip()
            if key == b"kind":
                if not _NAME.match(value):
                    return False
                kinds.append(value)
            else:
                if not _API.match(value):
                    return False
                apis.append(value)
        elif key.strip() != key or not key:
            return False
    return (bool(kinds) and len(kinds) == len(apis)
            and all(a.decode() in _CORE_API for a in apis)
            and not any(k.decode() in _SHARED_KINDS for k in kinds))


def kustomized(files: list[tuple[str, bytes]]) -> set[str]:
    """Files a kustomization of the scan lists (resources, patches; every file under a listed directory).

    The loader renders each kustomization from the scan's files (scanner/loaders/kustomize.py), so the
    base objects and patches it reads are judged with it, in the shared unit, whatever their kind. Only
    kustomization files are parsed here (few and small); one that does not parse lists nothing (the loader
    reports it).
    """
    kustomizations = [(n, d) for n, d in files if PurePosixPath(n).name in _KUSTOMIZATION_NAMES]
    if not kustomizations:
        return set()
    import yaml  # lazy: start-up (only a scan with a kustomization file pays for it)

    from scanner.loaders.kustomize import listed_paths  # lazy: start-up (as above)

    listed: set[str] = set()
    for name, data in kustomizations:
        try:
            doc = yaml.safe_load(data)
        except (yaml.YAMLError, ValueError, RecursionError):
            continue
        listed.update(listed_paths(name, doc))
    if not listed:
        return set()
    out = set()
    for name, _ in files:
        path = PurePosixPath(name)
        if name in listed or any(str(parent) in listed for parent in path.parents):
            out.add(name)
    return out


def alone_flags(files: list[tuple[str, bytes]]) -> list[bool]:
    """Per file, whether it is a unit of its own (:func:`stands_alone` and listed by no kustomization)."""
    listed = kustomized(files)
    return [name not in listed and stands_alone(name, data) for name, data in files]


def manifest_units(files: list[tuple[str, bytes]]) -> list[list[int]]:
    """Indexes of ``files`` grouped into units: every shared file in one unit (first), then one per file
    that stands alone; each unit in the files' order."""
    alone = alone_flags(files)
    shared = [i for i, a in enumerate(alone) if not a]
    return ([shared] if shared else []) + [[i] for i, a in enumerate(alone) if a]
