"""Policy loading: every validation error names file, line and problem; the frozen Policy answers right.

Bad samples live in ``fixtures/policies/bad_*.yaml``; each declares what it must produce in
header comments (``# expect: LINE: phrase``, optional ``# known_rules: A, B``), so adding a
case is adding a file.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.errors import ResidencyError
from scanner.model import Encryption, Severity, Unknown
from scanner.policy import (
    STARTER_POLICY,
    AllowedSet,
    Policy,
    PolicyError,
    find_policy,
    glob_match,
    load_policy,
    policy_from_regions,
)
from scanner.regions import catalog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
POLICIES = FIXTURES / "policies"
BAD = sorted(POLICIES.glob("bad_*.yaml"))
HEAD = "version: 1\nallowed_regions: [in:eu-locations]\n"


def write(tmp_path: Path, text: str, name: str = "residency.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_text(tmp_path: Path, text: str) -> Policy:
    return load_policy(write(tmp_path, text))


def region(cloud: str, code: str):
    r = catalog().region(cloud, code)
    assert r is not None, f"catalog lacks {cloud}:{code}"
    return r


# --------------------------------------------------------------------------- error paths


def _expectations(path: Path) -> tuple[list[tuple[int, str]], list[str] | None]:
    expects: list[tuple[int, str]] = []
    known: list[str] | None = None
    for line in path.read_text().splitlines():
        if m := re.match(r"#\s*expect:\s*(\d+):\s*(.+)$", line):
            expects.append((int(m.group(1)), m.group(2).strip()))
        elif m := re.match(r"#\s*known_rules:\s*(.+)$", line):
            known = [s.strip() for s in m.group(1).split(",")]
    return expects, known


def test_every_bad_fixture_declares_an_expectation() -> None:
    assert len(BAD) >= 25
    for path in BAD:
        assert _expectations(path)[0], f"{path.name} declares no '# expect: LINE: phrase'"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_policy_reports_file_line_and_problem(path: Path) -> None:
    expects, known = _expectations(path)
    with pytest.raises(ResidencyError) as info:
        load_policy(path, known_rules=known)
    message = str(info.value)
    assert "Traceback" not in message
    lines = message.splitlines()
    for line_no, phrase in expects:
        prefix = f"{path}:{line_no}: "
        hits = [m for m in lines if m.startswith(prefix)]
        assert hits, f"no problem reported at {prefix!r}; got:\n{message}"
        assert any(phrase in h for h in hits), f"{phrase!r} not in {hits}"
    assert info.value.exit_code == 2


def test_problems_come_sorted_by_line_in_one_error() -> None:
    path = POLICIES / "bad_many.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    found = [int(p.split(":")[1]) for p in info.value.problems]
    assert found == sorted(found) and len(found) == 2


def test_rule_ids_are_not_checked_without_known_rules() -> None:
    policy = load_policy(POLICIES / "bad_rule_id.yaml")
    assert policy.rules["RES0003"].severity is Severity.LOW
    assert policy.waivers[0].rule == "RES999"


def test_missing_file_is_a_residency_error(tmp_path: Path) -> None:
    with pytest.raises(ResidencyError, match="not found"):
        load_policy(tmp_path / "nope.yaml")


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"residency.yaml:1: the policy file is empty"):
        load_text(tmp_path, "\n\n   \n")


def test_unknown_group_lists_known_groups_when_nothing_is_close(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"unknown region group 'in:mars-zzz'.*in:eu-locations"):
        load_text(tmp_path, "version: 1\nallowed_regions: [in:mars-zzz]\n")


def test_bad_scope_entry_names_the_scope_line(tmp_path: Path) -> None:
    text = (
        "version: 1\nallowed_regions: [in:eu-locations]\n"
        "scopes:\n  - paths: [a/**]\n    allowed_regions:\n      - us-east-9\n"
    )
    with pytest.raises(PolicyError) as info:
        load_text(tmp_path, text)
    assert ":6: scopes[0].allowed_regions: 'us-east-9' is not a region code" in str(info.value)


def test_non_string_key_and_nested_wrong_type(tmp_path: Path) -> None:
    text = "version: 1\nallowed_regions: [in:eu-locations]\nexempt:\n  tags: [a, b]\n"
    with pytest.raises(PolicyError, match=r":4: exempt.tags: expected a mapping, got a list"):
        load_text(tmp_path, text)


def test_duplicate_key_nested(tmp_path: Path) -> None:
    text = "version: 1\nallowed_regions: [in:eu-locations]\nrules:\n  RES001: {enabled: false}\n  RES001:\n"
    with pytest.raises(PolicyError, match=r":5: duplicate key 'RES001' in rules \(first given on line 4\)"):
        load_text(tmp_path, text)


# --------------------------------------------------------------------------- good policies


def test_full_policy() -> None:
    policy = load_policy(POLICIES / "good_full.yaml", known_rules={"RES001", "RES002", "RES003"})
    assert policy.path == POLICIES / "good_full.yaml"
    assert policy.base_dir == POLICIES
    assert policy.allowed.describe() == "in:eu-locations, aws:eu-west-2, europe-west4"
    assert policy.encryption_minimum is Encryption.CUSTOMER
    assert policy.unresolved == "warn"
    assert policy.exclude[:2] == ("vendor/**", "**/.terraform/**")
    assert set(policy.exclude) >= {"**/.git/**", "**/.terraform/**", "**/node_modules/**"}
    assert len(policy.exclude) == len(set(policy.exclude))
    assert policy.rules["RES001"].enabled is False
    assert policy.rules["RES003"].severity is Severity.LOW and policy.rules["RES003"].enabled
    assert policy.rule_setting("RES002").enabled and policy.rule_setting("RES002").severity is None
    assert policy.exempt_tags == {
        "data-classification": frozenset({"public", "open"}),
        "team": frozenset({"platform"}),
    }
    assert policy.exempt_labels == {"data-classification": frozenset({"public"})}
    first, second = policy.waivers
    assert (first.rule, first.resource, first.expires, first.approver) == (
        "RES001", "aws_s3_bucket.legacy*", date(2026, 12, 31), "jane@example.com")
    assert first.paths == ("infra/**",) and first.line == 21
    assert second.expires is None and second.approver is None and second.paths == ()
    assert policy.terraform_roots[0].region == "eu-west-1"
    assert policy.terraform_roots[0].var_files == ("prod.tfvars",)
    assert policy.terraform_roots[1].region is None
    assert policy.clusters[0].cloud == "aws" and policy.clusters[1].cloud is None
    assert policy.require_placement is True
    assert policy.catalog.region("aws", "eu-south-3") is not None


def test_minimal_policy_defaults() -> None:
    policy = load_policy(POLICIES / "good_minimal.yaml")
    assert policy.encryption_minimum is Encryption.PROVIDER
    assert policy.unresolved == "fail"
    assert policy.scopes == () and policy.waivers == () and not policy.rules
    assert policy.require_placement is False
    assert policy.exemption({"data-classification": "public"}, {}) is None


def test_bundled_example_policy_loads() -> None:
    policy = load_policy(FIXTURES / "residency.yaml")
    assert policy.allowed.entries == ("in:eu-locations",)
    assert policy.encryption_minimum is Encryption.PROVIDER
    assert policy.unresolved == "fail"


def test_starter_policy_loads(tmp_path: Path) -> None:
    policy = load_text(tmp_path, STARTER_POLICY)
    assert policy.allowed.entries == ("in:eu-locations",)
    assert policy.unresolved == "fail"


def test_policy_is_immutable() -> None:
    policy = load_policy(POLICIES / "good_full.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.unresolved = "warn"  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.rules["RES009"] = None  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.allowed.entries = ()  # type: ignore[misc]


# --------------------------------------------------------------------------- allowed sets


def test_group_allows_eu_regions_of_every_cloud_but_not_london_or_zurich(tmp_path: Path) -> None:
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [in:eu-locations]\n").allowed
    for cloud, code in [("aws", "eu-west-1"), ("gcp", "europe-west4"), ("azure", "westeurope")]:
        assert allowed.allows(region(cloud, code)), code
    for cloud, code in [("aws", "eu-west-2"), ("aws", "eu-central-2"), ("gcp", "europe-west2"),
                        ("azure", "uksouth"), ("aws", "us-east-1")]:
        assert not allowed.allows(region(cloud, code)), code


def test_cloud_qualified_code_allows_only_that_cloud(tmp_path: Path) -> None:
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [aws:eu-west-2]\n").allowed
    assert allowed.allows(region("aws", "eu-west-2"))
    assert not allowed.allows(region("aws", "eu-west-1"))
    assert not allowed.allows(region("gcp", "europe-west2"))


def test_bare_code_matches_every_cloud_that_has_it(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "regions:\n"
        "  - {cloud: aws, code: europe-west99, country: NL}\n"
        "  - {cloud: gcp, code: europe-west99, country: NL}\n"
        "allowed_regions: [europe-west99]\n"
    )
    policy = load_text(tmp_path, text)
    assert policy.allowed.allows(policy.catalog.region("aws", "europe-west99"))
    assert policy.allowed.allows(policy.catalog.region("gcp", "europe-west99"))
    assert not policy.allowed.allows(region("gcp", "europe-west4"))


def test_bare_code_of_one_cloud(tmp_path: Path) -> None:
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [westeurope]\n").allowed
    assert allowed.allows(region("azure", "westeurope"))
    assert not allowed.allows(region("azure", "northeurope"))


def test_country_entry(tmp_path: Path) -> None:
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [country:gb]\n").allowed
    assert allowed.allows(region("aws", "eu-west-2"))
    assert allowed.allows(region("azure", "uksouth"))
    assert not allowed.allows(region("aws", "eu-west-1"))


def test_regions_extension_makes_a_new_code_valid(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="eu-south-3"):
        load_text(tmp_path, "version: 1\nallowed_regions: [aws:eu-south-3]\n")
    text = (
        "version: 1\n"
        "allowed_regions: [aws:eu-south-3]\n"
        "regions: [{cloud: aws, code: eu-south-3, country: IT, name: Europe (Rome)}]\n"
    )
    policy = load_text(tmp_path, text)
    new = policy.catalog.region("aws", "eu-south-3")
    assert new is not None and policy.allowed.allows(new)
    assert catalog().region("aws", "eu-south-3") is None  # the shared catalog is untouched


def test_extended_region_joins_country_groups(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "allowed_regions: [in:eu-locations]\n"
        "regions: [{cloud: aws, code: eu-south-3, country: IT}]\n"
    )
    policy = load_text(tmp_path, text)
    assert policy.allowed.allows(policy.catalog.region("aws", "eu-south-3"))


def test_multi_region_allowed_only_when_every_member_is(tmp_path: Path) -> None:
    cat = catalog()
    eu = cat.resolve("gcp", "EU")
    assert eu is not None and len(eu.members) > 1
    eu_only = load_text(tmp_path, "version: 1\nallowed_regions: [in:eu-locations]\n").allowed
    assert eu_only.disallowed(eu) == ()
    one = load_text(tmp_path, "version: 1\nallowed_regions: [gcp:europe-west4]\n").allowed
    missing = one.disallowed(eu)
    assert missing and all(m.code != "europe-west4" for m in missing)
    assert len(missing) == len(eu.members) - 1


def test_multi_region_code_listed_allows_the_location_and_its_members(tmp_path: Path) -> None:
    cat = catalog()
    eu = cat.resolve("gcp", "EU")
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [gcp:EU]\n").allowed
    assert allowed.disallowed(eu) == ()
    assert all(allowed.allows(m) for m in eu.members)


def test_single_region_location(tmp_path: Path) -> None:
    loc = catalog().resolve("aws", "eu-west-2")
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [in:eu-locations]\n").allowed
    assert [m.code for m in allowed.disallowed(loc)] == ["eu-west-2"]


def test_location_without_members_fails_closed() -> None:
    loc = catalog().resolve("aws", "eu-west-1")
    empty = dataclasses.replace(loc, members=()) if dataclasses.is_dataclass(loc) else None
    if empty is None:
        pytest.skip("ResolvedLocation is not a dataclass")
    allowed = AllowedSet(entries=("in:eu-locations",), regions=frozenset({("aws", "eu-west-1")}))
    assert len(allowed.disallowed(empty)) == 1


def test_policy_from_regions() -> None:
    policy = policy_from_regions(["in:eu-locations,aws:eu-west-2", " europe-west4 "], Path("/repo"))
    assert policy.path is None and policy.base_dir == Path("/repo")
    assert policy.allowed.entries == ("in:eu-locations", "aws:eu-west-2", "europe-west4")
    assert policy.allowed.allows(region("aws", "eu-west-2"))
    assert policy.unresolved == "fail" and policy.encryption_minimum is Encryption.PROVIDER
    assert policy.is_excluded(".terraform/modules/x/main.tf")


def test_policy_from_regions_errors() -> None:
    with pytest.raises(PolicyError, match=r"--allowed-regions: 'eu-west-9' is not a region code"):
        policy_from_regions(["eu-west-9"], Path("."))
    with pytest.raises(PolicyError, match="--allowed-regions"):
        policy_from_regions([""], Path("."))


# --------------------------------------------------------------------------- paths


SCOPED = """\
version: 1
allowed_regions: [in:eu-locations]
scopes:
  - paths: ["regions/**"]
    allowed_regions: [in:eea-locations]
  - paths: ["regions/us/**"]
    allowed_regions: [in:us-locations]
  - paths: ["regions/us/legacy/**"]
    allowed_regions: [aws:us-east-1]
"""


@pytest.mark.parametrize(
    "rel_path, expected",
    [
        ("main.tf", "in:eu-locations"),
        ("regions/eu/main.tf", "in:eea-locations"),
        ("regions/us", "in:us-locations"),
        ("regions/us/main.tf", "in:us-locations"),
        ("regions/usa/main.tf", "in:eea-locations"),
        ("regions/us/legacy/db/main.tf", "aws:us-east-1"),
        ("./regions/us/main.tf", "in:us-locations"),
    ],
)
def test_scope_precedence_longest_wins(tmp_path: Path, rel_path: str, expected: str) -> None:
    assert load_text(tmp_path, SCOPED).allowed_for(rel_path).describe() == expected


def test_scope_order_does_not_matter(tmp_path: Path) -> None:
    reordered = SCOPED.replace('"regions/**"', "TMP").replace('"regions/us/legacy/**"', '"regions/**"')
    reordered = reordered.replace("TMP", '"regions/us/legacy/**"')
    policy = load_text(tmp_path, reordered)
    assert policy.allowed_for("regions/us/legacy/x.tf").describe() == "in:eea-locations"
    assert policy.allowed_for("regions/eu/x.tf").describe() == "aws:us-east-1"


def test_root_and_cluster_lookup() -> None:
    policy = load_policy(POLICIES / "good_full.yaml")
    assert policy.root_for("envs/prod-eu").region == "eu-west-1"
    assert policy.root_for("envs/prod-eu/network").region == "eu-west-1"
    assert policy.root_for("envs/dev").region is None
    assert policy.root_for("modules/x") is None
    assert policy.cluster_for("k8s/prod-us/app.yaml").region == "us-east-1"
    assert policy.cluster_for("k8s/prod-eu/app.yaml").region == "europe-west4"
    assert policy.cluster_for("charts/app.yaml") is None


def test_exclude() -> None:
    policy = load_policy(POLICIES / "good_full.yaml")
    assert policy.is_excluded("vendor/x/main.tf")
    assert policy.is_excluded("vendor")
    assert policy.is_excluded(".git/config")
    assert policy.is_excluded("envs/prod/.terraform/modules/m/main.tf")
    assert policy.is_excluded("web/node_modules/x.yaml")
    assert not policy.is_excluded("envs/vendor/main.tf")
    assert not policy.is_excluded("main.tf")


@pytest.mark.parametrize(
    "pattern, path, matches",
    [
        ("regions/us/**", "regions/us", True),
        ("regions/us/**", "regions/us/a/b/c.tf", True),
        ("regions/us/**", "regions/usa/c.tf", False),
        ("regions/us/", "regions/us/a.tf", True),
        ("*.tf", "main.tf", True),
        ("*.tf", "mod/main.tf", False),
        ("**/*.tf", "main.tf", True),
        ("**/*.tf", "a/b/main.tf", True),
        ("a/*/c", "a/b/c", True),
        ("a/*/c", "a/b/x/c", False),
        ("a/**/c", "a/c", True),
        ("a/**/c", "a/b/x/c", True),
        ("a/**/c", "a/bc", False),
        ("**", "anything/at/all", True),
        ("**/.terraform/**", ".terraform", True),
        ("**/.terraform/**", "x/.terraform/m/main.tf", True),
        ("**/.terraform/**", "x/terraform/main.tf", False),
        ("env?/main.tf", "env1/main.tf", True),
        ("env?/main.tf", "env/main.tf", False),
        ("env[12]/x", "env2/x", True),
        ("env[!12]/x", "env3/x", True),
        ("env[!12]/x", "env1/x", False),
        ("a.b/*", "aXb/c", False),
        ("/infra/**", "infra/x", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches


_segment = st.text(alphabet="abcxyz-_.0", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))


@given(st.lists(_segment, min_size=1, max_size=5))
def test_glob_literal_path_matches_itself_and_double_star_matches_below(segments: list[str]) -> None:
    path = "/".join(segments)
    assert glob_match(path, path)
    assert glob_match("**", path)
    assert glob_match(f"{segments[0]}/**", path)
    assert glob_match("**/" + segments[-1], path)
    if len(segments) > 1:
        assert not glob_match("*", path)


# --------------------------------------------------------------------------- exemptions and waivers


def test_exemption_by_tag_and_label() -> None:
    policy = load_policy(POLICIES / "good_full.yaml")
    assert policy.exemption({"data-classification": "public"}, {}) == "tag data-classification=public"
    assert policy.exemption({}, {"data-classification": "public"}) == "label data-classification=public"
    assert policy.exemption({"team": "platform"}, {}) == "tag team=platform"
    assert policy.exemption({"data-classification": "internal"}, {}) is None
    assert policy.exemption({"data-classification": "Public"}, {}) is None
    assert policy.exemption({}, {"team": "platform"}) is None  # tags and labels are separate
    assert policy.exemption({"data-classification": Unknown("var.class has no value")}, {}) is None


def test_exempt_values_stay_as_written(tmp_path: Path) -> None:
    text = "version: 1\nallowed_regions: [in:eu-locations]\nexempt:\n  tags: {public: [yes, 01]}\n"
    policy = load_text(tmp_path, text)
    assert policy.exempt_tags["public"] == frozenset({"yes", "01"})


def test_waiver_matching() -> None:
    policy = load_policy(POLICIES / "good_full.yaml")
    glob_waiver, plain = policy.waivers
    assert glob_waiver.matches("RES001", "aws_s3_bucket.legacy_export", "infra/s3.tf")
    assert glob_waiver.matches("RES001", 'aws_s3_bucket.legacy["eu"]', "infra/a/s3.tf")
    assert not glob_waiver.matches("RES001", "aws_s3_bucket.legacy_export", "other/s3.tf")
    assert not glob_waiver.matches("RES002", "aws_s3_bucket.legacy_export", "infra/s3.tf")
    assert plain.matches("RES003", "google_storage_bucket.cache", "any.tf")
    assert plain.matches("RES003", "google_storage_bucket.cache[0]", "any.tf")
    assert not plain.matches("RES003", "google_storage_bucket.cache2", "any.tf")
    assert not plain.matches("RES003", "module.m.google_storage_bucket.cache", "any.tf")


# --------------------------------------------------------------------------- find_policy


def test_find_policy_in_start_dir(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "envs" / "prod"
    sub.mkdir(parents=True)
    write(tmp_path, "version: 1\n")
    local = write(sub, "version: 1\n", ".residency.yaml")
    assert find_policy(sub) == local
    assert find_policy(sub / "main.tf") == local  # a file: its directory


def test_find_policy_prefers_residency_yaml(tmp_path: Path) -> None:
    plain = write(tmp_path, "")
    write(tmp_path, "", ".residency.yaml")
    assert find_policy(tmp_path) == plain


def test_find_policy_at_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    write(tmp_path / "a", "version: 1\n")  # neither start dir nor git root: ignored
    root_policy = write(tmp_path, "version: 1\n", ".residency.yaml")
    assert find_policy(sub) == root_policy


def test_find_policy_git_file_worktree(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    sub = tmp_path / "x"
    sub.mkdir()
    policy = write(tmp_path, "version: 1\n")
    assert find_policy(sub) == policy


def test_find_policy_none(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "x"
    sub.mkdir()
    assert find_policy(sub) is None


def test_policy_is_hashable_by_identity() -> None:
    policy = load_policy(POLICIES / "good_minimal.yaml")
    assert {policy: 1}[policy] == 1
    assert hash(policy.allowed) == hash(policy.allowed)
    assert dataclasses.replace(policy, unresolved="warn").unresolved == "warn"


def test_group_entry_is_case_insensitive(tmp_path: Path) -> None:
    allowed = load_text(tmp_path, "version: 1\nallowed_regions: [in:EU-Locations]\n").allowed
    assert allowed.allows(region("aws", "eu-west-1"))
    assert allowed.entries == ("in:EU-Locations",)


def test_regions_extension_cloud_alias_is_explained(tmp_path: Path) -> None:
    text = HEAD + "regions:\n  - {cloud: google, code: x-y1, country: DE}\n"
    with pytest.raises(PolicyError, match=r":4: regions.cloud: unknown cloud 'google'; write gcp"):
        load_text(tmp_path, text)


def test_regions_extension_conflict_is_reported_at_its_line(tmp_path: Path) -> None:
    text = HEAD + "regions:\n  - {cloud: aws, code: eu-west-1, country: FR}\n"
    with pytest.raises(PolicyError, match=r":4: regions: cannot add aws:eu-west-1: .*already in the catalog"):
        load_text(tmp_path, text)


def test_allowed_regions_as_a_string_says_how_to_write_a_list(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r":2: allowed_regions: expected a list, got a string; write \[in"):
        load_text(tmp_path, "version: 1\nallowed_regions: in:eu-locations\n")
