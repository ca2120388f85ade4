"""tools/coverage_counts.py: the "row in any role" measure sees keys, attachments and copy-makers, not no-data types."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_counts", REPO / "tools" / "coverage_counts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_any_role_counts_copy_makers_keys_and_attachments(tmp_path: Path) -> None:
    tool = _tool()
    block, args = tool.PROVIDERS["aws"]
    types = [
        "aws_s3_bucket",  # a store: row + RES001
        "aws_ecr_replication_configuration",  # copy-only: no location, no RES001 when alone
        "aws_kms_replica_key",  # key role
        "aws_redshift_snapshot_copy",  # attachment, judged through its cluster (parent declared)
        "aws_vpc",  # no data: nothing is said about it
    ]
    seen = tool.any_role(types, block, args, tmp_path)
    assert seen == types[:4]


def test_attachment_is_declared_with_its_parent() -> None:
    parents, own = _tool()._blocks("aws_redshift_snapshot_copy", "")
    assert parents and parents[0].startswith('resource "aws_redshift_cluster" "p0_0"')
    assert "  cluster_identifier = aws_redshift_cluster.p0_0.cluster_identifier\n" in own
