"""RES006 on Kubernetes: RBAC bindings and the EKS aws-auth ConfigMap, scanned from manifests.

A binding opens the Secrets and volumes of its namespace (every namespace for a ClusterRoleBinding)
when its role reads Secrets or creates pods / pods/exec / pods/attach; subjects are placed through
``principals.kubernetes``; aws-auth entries are the IAM principals they map, judged as AWS principals.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checks.grants_kubernetes import role_opens
from scanner.loaders.manifest_groups import stands_alone
from tests.conftest import FIXTURES, REPO

ACCESS = FIXTURES / "kubernetes" / "access"
POLICY = ACCESS / "residency.yaml"


def _scan(path: Path, policy: Path = POLICY) -> list:
    from checks.rules import RULES
    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    report = scan(ScanOptions(paths=[path], cwd=REPO, use_cache=False), load_policy(policy, known_rules=RULES))
    return [f for f in report.findings if f.rule_id == "RES006"]


@pytest.mark.parametrize(("rule", "expect"), [
    ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}, ["list secrets"]),
    ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete"]}, []),  # writes no read
    ({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]}, []),  # Secrets are in the core group
    ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, ["* on *"]),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}, []),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}, ["create pods"]),
    ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}, ["get pods/exec"]),  # WebSocket exec
    ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["db"]}, ["get secrets (db)"]),
    ({"apiGroups": [""], "resources": ["*"], "verbs": ["watch"]}, ["watch secrets"]),
])
def test_role_opens(rule: dict, expect: list[str]) -> None:
    assert role_opens([rule]) == expect


def test_fixtures_failing_and_passing() -> None:
    failing = _scan(ACCESS / "failing")
    got = sorted((Path(f.file).name, f.line, f.category.value) for f in failing)
    assert got == [("aws-auth.yaml", 8, "access"), ("aws-auth.yaml", 18, "unresolved"),
                   ("bindings.yaml", 9, "access"), ("bindings.yaml", 25, "access"), ("bindings.yaml", 40, "access"),
                   ("bindings.yaml", 53, "access"), ("bindings.yaml", 56, "unresolved"),
                   ("bindings.yaml", 63, "unresolved")]
    by_line = {(Path(f.file).name, f.line): f for f in failing}
    assert "us-support, mapped to country:US" in by_line[("bindings.yaml", 9)].message
    assert "namespace payments" in by_line[("bindings.yaml", 9)].message
    assert "every namespace" in by_line[("bindings.yaml", 25)].message  # ClusterRoleBinding
    assert "namespace analytics" in by_line[("bindings.yaml", 40)].message  # RoleBinding to ClusterRole edit
    assert "any authenticated user" in by_line[("bindings.yaml", 40)].message
    assert "create pods/exec" in by_line[("bindings.yaml", 53)].message  # role from roles.yaml (another file)
    assert "made-elsewhere it binds is not in the scan" in by_line[("bindings.yaml", 63)].message
    assert "arn:aws:iam::444455556666:role/us-admins" in by_line[("aws-auth.yaml", 8)].message
    assert "system:masters" in by_line[("aws-auth.yaml", 8)].message
    assert "support-reads-secrets" in by_line[("aws-auth.yaml", 18)].message  # group -> binding followed
    assert _scan(ACCESS / "passing") == []


def test_role_in_another_file_is_linked(tmp_path: Path) -> None:
    """Without the ClusterRole's file the exec binding cannot be judged: unresolved, never a pass."""
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    shutil.copy(ACCESS / "failing" / "bindings.yaml", tmp_path / "bindings.yaml")
    lines = {f.line: f for f in _scan(tmp_path, tmp_path / "residency.yaml")}
    assert lines[47].category.value == "unresolved" and "pod-exec it binds is not in the scan" in lines[47].message


def test_unmapped_policy_warns_not_blocks(tmp_path: Path) -> None:
    """Under a policy with no access:/principals:, an unplaced subject is shown but does not block."""
    (tmp_path / "residency.yaml").write_text("version: 1\nallowed_regions: [in:eu-locations]\n")
    (tmp_path / "b.yaml").write_text((ACCESS / "failing" / "bindings.yaml").read_text())
    found = _scan(tmp_path, tmp_path / "residency.yaml")
    unresolved = [f for f in found if f.category.value == "unresolved"]
    public = [f for f in found if f.category.value == "access"]
    assert unresolved and not any(f.blocking for f in unresolved)
    assert public and all(f.blocking for f in public)  # system:authenticated / unauthenticated


def test_rbac_files_are_shared_units() -> None:
    """A binding is judged with its role from another file: RBAC files and aws-auth never stand alone."""
    for name in ("roles.yaml", "bindings.yaml", "aws-auth.yaml"):
        assert not stands_alone(f"k8s/{name}", (ACCESS / "failing" / name).read_bytes())


def test_aws_auth_that_does_not_parse_is_unresolved(tmp_path: Path) -> None:
    shutil.copy(POLICY, tmp_path / "residency.yaml")
    (tmp_path / "aws-auth.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n"
        "data:\n  mapRoles: |\n    - rolearn: [unclosed\n")
    found = _scan(tmp_path, tmp_path / "residency.yaml")
    assert [f.category.value for f in found] == ["unresolved"]
    assert "data.mapRoles is not YAML" in found[0].message
