"""The Kubernetes storage table (checks/kubernetes_storage.yaml): loaded strictly, and what moved into it."""

from __future__ import annotations

from importlib import resources

import pytest

from checks import kubernetes
from checks.kubernetes_storage import StorageTableError, parse_storage_table

TEXT = resources.files("checks").joinpath("kubernetes_storage.yaml").read_text(encoding="utf-8")


def test_the_classifier_reads_the_table() -> None:
    table = parse_storage_table(TEXT)
    assert table.provisioners == kubernetes.PROVISIONERS
    # the dict that was hard-coded in checks/kubernetes.py before it became data
    assert dict(table.provisioners) == {
        "ebs.csi.aws.com": ("aws", "ebs"),
        "kubernetes.io/aws-ebs": ("aws", "ebs"),
        "efs.csi.aws.com": ("aws", "efs"),
        "pd.csi.storage.gke.io": ("gcp", "gce-pd"),
        "kubernetes.io/gce-pd": ("gcp", "gce-pd"),
        "filestore.csi.storage.gke.io": ("gcp", "google-managed"),
        "disk.csi.azure.com": ("azure", "azure-disk"),
        "kubernetes.io/azure-disk": ("azure", "azure-disk"),
        "file.csi.azure.com": ("azure", "azure-file"),
        "kubernetes.io/azure-file": ("azure", "azure-file"),
    }
    assert "topology.disk.csi.azure.com/zone" in kubernetes.ZONE_KEYS
    assert table.geo_skus == {"GRS", "RAGRS", "GZRS", "RAGZRS"}
    assert set(table.families) == {p[1] for p in table.provisioners.values()}  # no family without a driver


CASES = [
    ("  efs.csi.aws.com: {cloud: aws, family: efs}", "  efs.csi.aws.com: {cloud: aws, family: efz}",
     r"provisioners\.efs\.csi\.aws\.com: unknown cloud or family"),
    ("      key: disk-encryption-kms-key\n", "      kee: disk-encryption-kms-key\n",
     r"families\.gce-pd\.encryption: unknown key 'kee'"),
    ("      customer: Cloud KMS key {where}\n", "",
     r"families\.gce-pd\.encryption: missing required key 'customer'"),
    ("      key_cloud: gcp\n", "", r"families\.gce-pd\.encryption: a key needs exactly one of key_cloud, key_in"),
    ("geo_skus: [GRS, RAGRS, GZRS, RAGZRS]", "geo_skus: GRS", r"top level\.geo_skus: must be a list of strings"),
    ("  disk.csi.azure.com: {cloud: azure, param: location}", "  disk.csi.azure.com: {cloud: azure}",
     r"snapshot_classes\.disk\.csi\.azure\.com: missing required key 'param'"),
    ("in_tree_volumes: {awsElasticBlockStore: aws,", "in_tree_volumes: {awsElasticBlockStore: amazon,",
     r"in_tree_volumes\.awsElasticBlockStore: must be a cloud"),
]


@pytest.mark.parametrize(("old", "new", "error"), CASES)
def test_a_mistake_in_the_table_fails_naming_the_entry(old: str, new: str, error: str) -> None:
    assert TEXT.count(old) == 1, old
    with pytest.raises(StorageTableError, match=r"^checks/kubernetes_storage\.yaml: " + error):
        parse_storage_table(TEXT.replace(old, new))
