"""The plan loader: what `terraform plan` will create, where it is, and which provider region applies.

Fixtures under fixtures/plan/ are hand-written plans in Terraform's documented JSON output format
(`terraform show -json`), pretty-printed so lines mean something. Lines asserted here are the lines
of each resource's "address" key in planned_values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.loaders.jsonpos import loads_with_lines
from scanner.loaders.tfplan import load_plan, load_plan_bytes
from scanner.model import Category, Ref, Resource, Unknown

REPO = Path(__file__).resolve().parent.parent
PLANS = REPO / "fixtures" / "plan"
AWS = "registry.terraform.io/hashicorp/aws"
EU_WEST_1 = {"region": {"constant_value": "eu-west-1"}}


def by_address(resources: list[Resource]) -> dict[str, Resource]:
    return {r.address: r for r in resources}


@pytest.fixture(scope="module")
def basic() -> dict[str, Resource]:
    result = load_plan(PLANS / "basic" / "plan.json", REPO)
    assert result.problems == []
    assert result.files == 1
    return by_address(result.resources)


# --- which resources, where -------------------------------------------------------------------


def test_basic_addresses_and_lines(basic: dict[str, Resource]) -> None:
    assert {a: r.line for a, r in basic.items()} == {
        "aws_db_instance.db[0]": 16,
        "aws_db_instance.db[1]": 39,
        'aws_dynamodb_table.t["orders"]': 62,
        "aws_ebs_volume.replaced": 96,  # replace = delete + create: kept
        "aws_kms_key.replica": 112,
        "aws_kms_key.v6": 126,
        "aws_s3_bucket.env": 140,
        "aws_s3_bucket.loc": 157,
        "aws_s3_bucket.logs": 174,  # no-op: still exists after apply; its deposed object is ignored
        "aws_s3_bucket.us": 192,
        "google_storage_bucket.g": 221,
        "module.child.aws_s3_bucket.this": 241,
        "module.child.module.grand.aws_s3_bucket.deep": 263,
        "module.legacy[0].aws_s3_bucket.this": 287,
        "module.passed.aws_s3_bucket.this": 309,
    }
    # data sources and the delete-only aws_s3_bucket.old are not resources this plan leaves running
    for r in basic.values():
        assert r.file == "fixtures/plan/basic/plan.json"
        assert r.source == "plan"
    assert basic["aws_db_instance.db[0]"].type == "aws_db_instance"
    assert basic["aws_s3_bucket.us"].extra["actions"] == ["update"]
    assert basic["aws_ebs_volume.replaced"].extra["actions"] == ["delete", "create"]


def test_lines_point_at_planned_values_not_other_sections(basic: dict[str, Resource]) -> None:
    text = (PLANS / "basic" / "plan.json").read_text().splitlines()
    for address, r in basic.items():
        assert text[r.line - 1].strip() == f'"address": {json.dumps(address)},'
    # the same address also appears in resource_changes (line 596+) and prior_state; we chose planned_values
    assert basic["aws_s3_bucket.logs"].line < 330


def test_no_source_mapping_without_terraform_files(basic: dict[str, Resource]) -> None:
    r = basic["aws_s3_bucket.logs"]
    assert "source_file" not in r.extra
    assert r.root_dir is None


# --- values -----------------------------------------------------------------------------------


def test_values_as_planned(basic: dict[str, Resource]) -> None:
    db = basic["aws_db_instance.db[1]"].attributes
    assert db["storage_encrypted"] is False
    assert db["identifier"] == "customers-1"
    ddb = basic['aws_dynamodb_table.t["orders"]'].attributes
    assert ddb["attribute"] == [{"name": "id", "type": "S"}]
    assert ddb["replica"][0]["region_name"] == "eu-central-1"
    assert ddb["server_side_encryption"] == []


def test_after_unknown_becomes_unknown_with_the_attribute_path(basic: dict[str, Resource]) -> None:
    db = basic["aws_db_instance.db[0]"].attributes
    assert db["endpoint"] == Unknown(
        "known only after apply: endpoint (computed by the provider; not set in the configuration)")
    replica = basic['aws_dynamodb_table.t["orders"]'].attributes["replica"][0]
    assert replica["arn"] == Unknown(
        "known only after apply: replica[0].arn (computed by the provider; not set in the configuration)")
    assert replica["propagate_tags"] is False
    tags_all = basic["aws_s3_bucket.us"].attributes["tags_all"]
    assert isinstance(tags_all, Unknown) and tags_all.reason.startswith("known only after apply: tags_all")


def test_configured_reference_to_a_resource_attribute_is_a_ref(basic: dict[str, Resource]) -> None:
    replica = basic['aws_dynamodb_table.t["orders"]'].attributes["replica"][0]
    assert replica["kms_key_arn"] == Ref("aws_kms_key.replica", "arn")


def test_v6_resource_region_and_bucket_region_stay_in_attributes(basic: dict[str, Resource]) -> None:
    key = basic["aws_kms_key.v6"]
    assert key.attributes["region"] == "eu-central-1"
    assert key.provider is not None and key.provider.region == "eu-west-1"
    logs = basic["aws_s3_bucket.logs"].attributes
    assert (logs["region"], logs["bucket_region"]) == ("eu-west-1", "eu-west-1")
    # a new bucket's unset bucket_region is computed as the provider's region: left to the provider context
    assert "bucket_region" not in basic["aws_s3_bucket.env"].attributes


def test_unset_unknown_region_is_the_providers_not_unresolved() -> None:
    """v5 S3 `region`/`bucket_region` are computed: unknown on create, but by definition the provider's."""
    result = load_plan(PLANS / "paired" / "plan.json", REPO)
    archive = by_address(result.resources)["aws_s3_bucket.archive"]
    assert "region" not in archive.attributes
    assert "bucket_region" not in archive.attributes
    assert archive.provider is not None and archive.provider.region == "us-east-1"


def test_unset_computed_kms_key_is_the_default_key_as_in_hcl(basic: dict[str, Resource]) -> None:
    assert "kms_key_id" not in basic["aws_db_instance.db[0]"].attributes
    assert "kms_key_id" not in basic["aws_ebs_volume.replaced"].attributes
    assert basic["aws_ebs_volume.replaced"].attributes["encrypted"] is True


def test_nothing_is_dropped_inside_a_block_the_configuration_does_not_show() -> None:
    """A `dynamic` block is absent from the plan's configuration: its unknowns stay Unknown."""
    after = {"name": "t", "replica": [{"region_name": "eu-central-1"}]}
    plan = _plan(
        planned=[_entry("aws_dynamodb_table.t", after)],
        changes=[_change("aws_dynamodb_table.t", ["create"], after,
                         {"replica": [{"kms_key_arn": True}], "kms_key_arn": True})],
        config_resources=[_config("aws_dynamodb_table.t", "aws", {"name": {"constant_value": "t"}})],
    )
    attrs = _load(plan).resources[0].attributes
    assert "kms_key_arn" not in attrs
    assert attrs["replica"][0]["kms_key_arn"] == Unknown("known only after apply: replica[0].kms_key_arn")


def test_configured_unknown_region_stays_unknown() -> None:
    plan = _plan(
        planned=[_entry("aws_s3_bucket.b", {"bucket": "b"})],
        changes=[_change("aws_s3_bucket.b", ["create"], {"bucket": "b"}, {"region": True, "bucket_region": True})],
        config_resources=[_config("aws_s3_bucket.b", "aws", {"region": {"references": ["aws_s3_bucket.a.region",
                                                                                      "aws_s3_bucket.a"]}})],
    )
    attrs = by_address(_load(plan).resources)["aws_s3_bucket.b"].attributes
    assert attrs["region"] == Ref("aws_s3_bucket.a", "region")
    assert "bucket_region" not in attrs


# --- provider regions -------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "alias", "region", "source"), [
    ("aws_s3_bucket.logs", None, "eu-west-1", "provider aws (plan configuration)"),
    ("aws_s3_bucket.us", "us", "us-east-1", "provider aws.us (plan configuration, region = var.us_region)"),
    ("module.passed.aws_s3_bucket.this", "us", "us-east-1",
     "provider aws.us (plan configuration, region = var.us_region)"),
    ("module.child.aws_s3_bucket.this", None, "eu-west-1",
     "provider aws (plan configuration, inherited by module.child)"),
    ("module.child.module.grand.aws_s3_bucket.deep", None, "eu-west-1",
     "provider aws (plan configuration, inherited by module.child.module.grand)"),
    ("module.legacy[0].aws_s3_bucket.this", None, "ap-southeast-2",
     "provider module.legacy:aws (plan configuration, region = module.legacy.var.region = var.legacy_region)"),
])
def test_provider_region_and_provenance(basic: dict[str, Resource], address: str, alias: str | None, region: str,
                                        source: str) -> None:
    provider = basic[address].provider
    assert provider is not None
    assert (provider.name, provider.alias, provider.region, provider.source) == ("aws", alias, region, source)


def test_provider_without_region_came_from_the_environment(basic: dict[str, Resource]) -> None:
    provider = basic["aws_s3_bucket.env"].provider
    assert provider is not None
    assert provider.region == Unknown(
        "provider aws.env has no region in the plan configuration (it came from the environment)")
    # ...while AWS v6 put the region it resolved on the resource itself
    assert basic["aws_s3_bucket.env"].attributes["region"] == "eu-north-1"


def test_provider_region_from_a_local_is_unknown(basic: dict[str, Resource]) -> None:
    provider = basic["aws_s3_bucket.loc"].provider
    assert provider is not None
    assert provider.region == Unknown(
        "provider aws.loc region comes from local.region, which the plan configuration does not evaluate")


def test_default_tags_and_google_zone(basic: dict[str, Resource]) -> None:
    aws = basic["aws_s3_bucket.logs"].provider
    assert aws is not None and aws.default_tags == {"owner": "data"}
    google = basic["google_storage_bucket.g"].provider
    assert google is not None
    assert google.region == "europe-west1"
    assert google.zone == Unknown(
        "provider google has no zone in the plan configuration (it came from the environment)")


def test_implicit_root_provider_and_azurerm_has_no_region() -> None:
    plan = _plan(
        planned=[_entry("aws_s3_bucket.b", {"bucket": "b"}),
                 _entry("azurerm_storage_account.s", {"location": "westeurope"},
                        provider="registry.terraform.io/hashicorp/azurerm")],
        providers={},
    )
    got = by_address(_load(plan).resources)
    aws = got["aws_s3_bucket.b"].provider
    assert aws is not None and isinstance(aws.region, Unknown)
    assert aws.source == "provider aws (implicit default configuration)"
    azure = got["azurerm_storage_account.s"].provider
    assert azure is not None and (azure.name, azure.region, azure.zone) == ("azurerm", None, None)


def test_older_call_name_key_form() -> None:
    plan = _plan(
        planned=[],
        children=[{"address": "module.module1", "resources": [_entry("module.module1.aws_s3_bucket.b", {})]}],
        providers={"aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}},
                   "module1:aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-north-1"}}}},
        calls={"module1": {"source": "./m", "module": {"resources": [_config("aws_s3_bucket.b", "module1:aws")]}}},
    )
    provider = _load(plan).resources[0].provider
    assert provider is not None and provider.region == "eu-north-1"


def test_aliased_module_provider_missing_from_configuration_is_unknown() -> None:
    plan = _plan(
        planned=[],
        children=[{"address": "module.m", "resources": [_entry("module.m.aws_s3_bucket.b", {})]}],
        providers={"aws.eu": {"name": "aws", "alias": "eu", "expressions": EU_WEST_1}},
        calls={"m": {"source": "./m", "module": {"resources": [_config("aws_s3_bucket.b", "module.m:aws.dst")]}}},
    )
    provider = _load(plan).resources[0].provider
    assert provider is not None and isinstance(provider.region, Unknown)
    assert "passed from a parent module" in provider.region.reason


def test_module_input_chain_and_variable_defaults() -> None:
    plan = _plan(
        planned=[],
        children=[{"address": 'module.a["x"]', "resources": [], "child_modules": [
            {"address": 'module.a["x"].module.b',
             "resources": [_entry('module.a["x"].module.b.aws_s3_bucket.z', {})]}]}],
        providers={"module.a.module.b:aws": {"name": "aws", "module_address": "module.a.module.b",
                                             "expressions": {"region": {"references": ["var.where"]}}}},
        calls={"a": {"source": "./a", "for_each_expression": {"constant_value": {"x": 1}},
                     "expressions": {"home": {"references": ["var.regions[\"eu\"]", "var.regions"]}},
                     "module": {"module_calls": {"b": {
                         "source": "./b", "expressions": {"where": {"references": ["var.home"]}},
                         "module": {"resources": [_config("aws_s3_bucket.z", "module.a.module.b:aws")]}}}}}},
        root_variables={"regions": {"default": {"eu": "eu-south-1"}}},
        variables={},
    )
    provider = _load(plan).resources[0].provider
    assert provider is not None and provider.region == "eu-south-1"
    assert provider.source.endswith('region = module.a.module.b.var.where = module.a.var.home = var.regions["eu"])')


def test_expression_with_several_references_is_unknown() -> None:
    plan = _plan(planned=[_entry("aws_s3_bucket.b", {})],
                 providers={"aws": {"name": "aws", "expressions": {"region": {"references": ["var.a", "var.b"]}}}})
    provider = _load(plan).resources[0].provider
    assert provider is not None and provider.region == Unknown(
        "provider aws region combines var.a, var.b; the plan does not evaluate it")


# --- fail closed ------------------------------------------------------------------------------


def test_errored_plan_loads_nothing() -> None:
    result = load_plan(PLANS / "errored.json", REPO)
    assert result.resources == []
    [problem] = result.problems
    assert problem.category is Category.PARSE
    assert (problem.file, problem.line) == ("fixtures/plan/errored.json", 55)
    assert problem.message.startswith("the plan is incomplete (errored: true); an incomplete plan proves nothing")


@pytest.mark.parametrize(("version", "ok"), [("1.0", True), ("1.2", True), ("1.99", True), ("0.2", True),
                                             ("2.0", False), ("10.1", False)])
def test_format_version(version: str, ok: bool) -> None:
    result = _load(_plan(planned=[_entry("aws_s3_bucket.b", {})], version=version))
    if ok:
        assert result.problems == [] and len(result.resources) == 1
    else:
        assert result.resources == []
        [problem] = result.problems
        assert problem.message.startswith(f"unsupported plan format {version}")
        assert problem.line == 2


def test_invalid_json_reports_its_line() -> None:
    data = b'{\n  "format_version": "1.2",\n  "planned_values": {\n    "root_module": {,}\n  }\n}\n'
    result = load_plan_bytes(data, "-", REPO)
    [problem] = result.problems
    assert (problem.category, problem.file, problem.line) == (Category.PARSE, "-", 4)
    assert "not valid JSON" in problem.message and result.resources == []


def test_over_the_size_limit_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_plan(planned=[_entry("aws_s3_bucket.b", {})])))
    result = load_plan(path, tmp_path, max_bytes=100)
    [problem] = result.problems
    assert "over the 100-byte limit" in problem.message
    assert result.resources == []
    assert "over the 100-byte limit" in load_plan_bytes(path.read_bytes(), "-", tmp_path, max_bytes=100
                                                        ).problems[0].message


@pytest.mark.parametrize(("data", "needle"), [
    (b'{"format_version": "1.2", "planned_values": {}}\xff', "not UTF-8"),
    (b'[1, 2]', "not an object"),
    (b'{"format_version": 1, "planned_values": {}}', "format_version 1 is not"),
    (b'{"format_version": "1.2", "values": {}}', "neither planned_values nor resource_changes"),
    (b'{"format_version": "1.2", "planned_values": {"root_module": {"resources": {}}}}', "is not a list"),
    (b'{"format_version": "1.2", "resource_changes": [{"address": "a.b", "type": "a", "name": "b"}]}',
     "no actions list"),
    (b'[' * 100000 + b']' * 100000, "nested too deeply"),
])
def test_malformed_input_is_a_parse_problem(data: bytes, needle: str) -> None:
    result = load_plan_bytes(data, "-", REPO)
    assert result.resources == []
    assert len(result.problems) == 1 and needle in result.problems[0].message


def test_unreadable_file(tmp_path: Path) -> None:
    result = load_plan(tmp_path / "missing.json", tmp_path)
    assert result.problems and result.problems[0].message.startswith("cannot read plan")


# --- other plan shapes ------------------------------------------------------------------------


def test_plan_with_resource_changes_only() -> None:
    plan = {"format_version": "1.2", "resource_changes": [
        _change("aws_s3_bucket.new", ["create"], {"bucket": "n"}, {"arn": True}),
        _change("aws_s3_bucket.gone", ["delete"], None),
        _change("aws_s3_bucket.forgotten", ["forget"], None),
        _change("data.aws_region.r", ["read"], {"name": "x"}, mode="data"),
    ]}
    result = load_plan_bytes(json.dumps(plan, indent=1).encode(), "stdin", REPO)
    [r] = result.resources
    assert (r.address, r.file, r.line, r.attributes["bucket"]) == ("aws_s3_bucket.new", "stdin", 5, "n")
    assert r.attributes["arn"] == Unknown("known only after apply: arn")


def test_deferred_changes_are_scanned_as_far_as_known() -> None:
    plan = _plan(planned=[])
    plan["complete"] = False
    plan["deferred_changes"] = [{"reason": "resource_config_unknown", "resource_change": _change(
        'aws_s3_bucket.later["a"]', ["create"], {"bucket": "later"}, {"arn": True})}]
    result = _load(plan)
    [r] = result.resources
    assert r.address == 'aws_s3_bucket.later["a"]' and r.extra["deferred"] == "resource_config_unknown"
    assert any("complete: false" in n.message for n in result.notes)


def test_compact_plan_as_terraform_writes_it() -> None:
    """`terraform show -json` writes one line: every line is 1, and nothing else changes."""
    data = (PLANS / "basic" / "plan.json").read_bytes()
    compact = json.dumps(json.loads(data), separators=(",", ":")).encode()
    result = load_plan_bytes(compact, "plan.json", REPO)
    pretty = load_plan(PLANS / "basic" / "plan.json", REPO)
    assert {r.line for r in result.resources} == {1}
    assert [(r.address, r.attributes, r.provider) for r in result.resources] == [
        (r.address, r.attributes, r.provider) for r in pretty.resources]


def test_stdin_with_bom() -> None:
    data = b"\xef\xbb\xbf" + (PLANS / "paired" / "plan.json").read_bytes()
    result = load_plan_bytes(data, "-", REPO)
    assert result.problems == [] and {r.file for r in result.resources} == {"-"}
    assert all("source_file" not in r.extra for r in result.resources)  # no --source: no mapping


# --- source mapping ---------------------------------------------------------------------------


def test_paired_plan_maps_to_its_source() -> None:
    result = load_plan(PLANS / "paired" / "plan.json", REPO)
    got = {r.address: (r.file, r.line, r.extra["source_file"], r.extra["source_line"], r.provider.region)
           for r in result.resources if r.provider is not None}
    assert got == {
        "aws_db_instance.customers": ("fixtures/plan/paired/plan.json", 13, "fixtures/plan/paired/main.tf", 17,
                                      "eu-west-1"),
        "aws_dynamodb_table.sessions": ("fixtures/plan/paired/plan.json", 33, "fixtures/plan/paired/main.tf", 28,
                                        "eu-west-1"),
        "aws_s3_bucket.archive": ("fixtures/plan/paired/plan.json", 66, "fixtures/plan/paired/main.tf", 12,
                                  "us-east-1"),
    }
    for r in result.resources:
        assert r.root_dir == "fixtures/plan/paired"


def test_paired_plan_describes_the_same_resources_as_its_hcl() -> None:
    from scanner.loaders.hcl_parse import parse_file

    blocks = set()
    for name in ("main.tf", "variables.tf"):
        parsed = parse_file((PLANS / "paired" / name).read_text(), name)
        blocks |= {f"{b.labels[0]}.{b.labels[1]}" for b in parsed.blocks if b.type == "resource"}
    result = load_plan(PLANS / "paired" / "plan.json", REPO)
    assert {r.address for r in result.resources} == blocks
    db = by_address(result.resources)["aws_db_instance.customers"]
    assert db.attributes["storage_encrypted"] is False
    table = by_address(result.resources)["aws_dynamodb_table.sessions"]
    assert [r["region_name"] for r in table.attributes["replica"]] == ["us-east-1"]


MAIN_TF = """\
provider "aws" {
  region = "eu-west-1"
}

# residency:ignore RES001 reason="archive stays in the US" expires=2099-01-01
# second line of the same comment run
resource "aws_s3_bucket" "waived" {
  bucket = "w" # residency:ignore RES003 reason="inline" expires=2099-01-01
}

resource "aws_s3_bucket" "plain" { # trailing comment on the opening line
  bucket = "p"
}
# a comment after the block, not above the next one

resource "aws_s3_bucket" "below" {
  bucket = "b"
}

module "local" {
  source = "./modules/store"
}

module "remote" {
  source = "terraform-aws-modules/s3-bucket/aws"
}
"""

MODULE_TF = """\
/* residency:ignore RES002 reason="module waiver" expires=2099-01-01 */
resource "aws_s3_bucket" "this" {
  bucket = "m"
}
"""


def _source_plan() -> dict:
    return _plan(
        planned=[_entry("aws_s3_bucket.waived", {"bucket": "w"}), _entry("aws_s3_bucket.plain", {"bucket": "p"}),
                 _entry("aws_s3_bucket.below", {"bucket": "b"})],
        children=[{"address": "module.local", "resources": [_entry("module.local.aws_s3_bucket.this", {})]},
                  {"address": "module.remote", "resources": [_entry("module.remote.aws_s3_bucket.this", {})]}],
        calls={"local": {"source": "./modules/store", "module": {"resources": [_config("aws_s3_bucket.this", "aws")]}},
               "remote": {"source": "terraform-aws-modules/s3-bucket/aws",
                          "module": {"resources": [_config("aws_s3_bucket.this", "aws")]}}},
    )


def test_source_mapping_with_comments_for_waivers(tmp_path: Path) -> None:
    src = tmp_path / "infra"
    (src / "modules" / "store").mkdir(parents=True)
    (src / "main.tf").write_text(MAIN_TF)
    (src / "modules" / "store" / "main.tf").write_text(MODULE_TF)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "prod.json").write_text(json.dumps(_source_plan(), indent=2))

    result = load_plan(plans / "prod.json", tmp_path, source_dir=src)
    got = by_address(result.resources)
    waived = got["aws_s3_bucket.waived"]
    assert (waived.file, waived.extra["source_file"], waived.extra["source_line"]) == (
        "plans/prod.json", "infra/main.tf", 7)
    assert [line for line, _ in waived.extra["comments"]] == [5, 6, 8]
    assert "RES001" in waived.extra["comments"][0][1]
    assert [line for line, _ in got["aws_s3_bucket.plain"].extra["comments"]] == [11]
    assert got["aws_s3_bucket.below"].extra["comments"] == []  # a blank line separates the comment above
    module = got["module.local.aws_s3_bucket.this"]
    assert (module.extra["source_file"], module.extra["source_line"], module.module_dir) == (
        "infra/modules/store/main.tf", 2, "infra/modules/store")
    assert [line for line, _ in module.extra["comments"]] == [1]
    remote = got["module.remote.aws_s3_bucket.this"]
    assert "source_file" not in remote.extra and remote.module_dir is None
    assert {r.root_dir for r in result.resources} == {"infra"}


def test_default_source_is_the_plans_directory_only_with_terraform_files(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps(_source_plan(), indent=2))
    assert all("source_file" not in r.extra for r in load_plan(tmp_path / "plan.json", tmp_path).resources)
    (tmp_path / "main.tf").write_text(MAIN_TF)
    got = by_address(load_plan(tmp_path / "plan.json", tmp_path).resources)
    assert got["aws_s3_bucket.waived"].extra["source_file"] == "main.tf"


def test_unparseable_source_is_a_note_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "waived" {\n')
    (tmp_path / "plan.json").write_text(json.dumps(_source_plan(), indent=2))
    result = load_plan(tmp_path / "plan.json", tmp_path)
    assert result.problems == [] and len(result.resources) == 5
    assert any("main.tf" in n.message for n in result.notes)


# --- the position-aware reader ----------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(value=_json, indent=st.sampled_from([None, 0, 2]))
def test_jsonpos_matches_json_loads_and_finds_key_lines(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    parsed, lines = loads_with_lines(text, lambda path: True)
    assert parsed == json.loads(text)
    source = text.split("\n")  # JSON lines end at \n only (not at U+0085 or U+2028)
    for path, line in lines.items():
        if path and isinstance(path[-1], str):
            assert json.dumps(path[-1], ensure_ascii=False) in source[line - 1]


@given(text=st.text(alphabet='{}[]",:0123456789 \ntruefalsn\\', max_size=30))
def test_jsonpos_accepts_and_rejects_exactly_what_json_loads_does(text: str) -> None:
    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as info:
            loads_with_lines(text, lambda path: True)
        assert info.value.lineno == exc.lineno
        return
    assert loads_with_lines(text, lambda path: True)[0] == expected


def test_jsonpos_first_key_mode_and_its_fallback() -> None:
    text = '[\n {"address" :\n  "a", "v": {"x": 1}},\n {"v": 2,\n  "address": "b"}\n]'
    value, lines = loads_with_lines(text, lambda path: "address" if len(path) == 1 else len(path) == 0)
    assert value == json.loads(text)
    assert (lines[(0,)], lines[(0, "address")]) == (2, 2)
    assert (0, "v") not in lines  # decoded in C
    assert (lines[(1,)], lines[(1, "address")], lines[(1, "v")]) == (4, 5, 4)  # walked: address is not first


# --- helpers: plans built in the test, following the documented format -------------------------


def _entry(address: str, values: dict, provider: str = AWS) -> dict:
    rtype, name = address.split(".")[-2:]
    name = name.split("[")[0]
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_name": provider,
            "schema_version": 0, "values": values, "sensitive_values": {}}


def _change(address: str, actions: list[str], after: dict | None, unknown: dict | None = None,
            mode: str = "managed") -> dict:
    last = address.split(".", 1)[1] if mode == "data" else address
    rtype, name = last.split(".")[-2:]
    return {"address": address, "mode": mode, "type": rtype, "name": name.split("[")[0], "provider_name": AWS,
            "change": {"actions": actions, "before": None, "after": after, "after_unknown": unknown or {}}}


def _config(address: str, key: str, expressions: dict | None = None) -> dict:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_config_key": key,
            "expressions": expressions or {}, "schema_version": 0}


def _plan(planned: list[dict], changes: list[dict] | None = None, children: list[dict] | None = None,
          providers: dict | None = None, config_resources: list[dict] | None = None, calls: dict | None = None,
          root_variables: dict | None = None, variables: dict | None = None, version: str = "1.2") -> dict:
    if providers is None:
        providers = {"aws": {"name": "aws", "full_name": AWS, "expressions": EU_WEST_1}}
    root: dict = {"resources": config_resources or []}
    if calls:
        root["module_calls"] = calls
    if root_variables:
        root["variables"] = root_variables
    return {
        "format_version": version,
        "terraform_version": "1.9.5",
        "variables": variables or {},
        "planned_values": {"root_module": {"resources": planned, "child_modules": children or []}},
        "resource_changes": changes or [],
        "configuration": {"provider_config": providers, "root_module": root},
        "errored": False,
    }


def _load(plan: dict):  # type: ignore[no-untyped-def]
    return load_plan_bytes(json.dumps(plan, indent=2).encode(), "plan.json", REPO)


# --- issue 16 step 2: plan/source parity for unset Optional+Computed attributes and references ---


@pytest.mark.parametrize(("address", "provider", "unknown", "gone"), [
    ("aws_sqs_queue.q", AWS, {"sqs_managed_sse_enabled": True}, "sqs_managed_sse_enabled"),
    ("aws_ebs_volume.v", AWS, {"encrypted": True}, "encrypted"),
    ("google_sql_database_instance.db", "registry.terraform.io/hashicorp/google", {"encryption_key_name": True},
     "encryption_key_name"),
])
def test_unset_computed_defaults_are_the_provider_default_as_in_hcl(address: str, provider: str, unknown: dict,
                                                                     gone: str) -> None:
    plan = _plan(planned=[_entry(address, {"name": "x"}, provider)],
                 changes=[_change(address, ["create"], {"name": "x"}, unknown)],
                 config_resources=[_config(address, address.split("_")[0], {"name": {"constant_value": "x"}})])
    assert gone not in _load(plan).resources[0].attributes


def test_gce_boot_disk_key_unset_is_google_managed() -> None:
    after = {"name": "vm", "boot_disk": [{"auto_delete": True}]}
    plan = _plan(
        planned=[_entry("google_compute_instance.vm", after, "registry.terraform.io/hashicorp/google")],
        changes=[_change("google_compute_instance.vm", ["create"], after,
                         {"boot_disk": [{"kms_key_self_link": True}]})],
        config_resources=[_config("google_compute_instance.vm", "google",
                                  {"boot_disk": [{"initialize_params": [{"image": {"constant_value": "debian"}}]}]})])
    assert "kms_key_self_link" not in _load(plan).resources[0].attributes["boot_disk"][0]


def test_a_configured_unknown_key_is_not_dropped() -> None:
    plan = _plan(planned=[_entry("aws_sqs_queue.q", {"name": "q"})],
                 changes=[_change("aws_sqs_queue.q", ["create"], {"name": "q"}, {"sqs_managed_sse_enabled": True})],
                 config_resources=[_config("aws_sqs_queue.q", "aws", {"sqs_managed_sse_enabled": {
                     "references": ["var.sse"]}})])
    assert isinstance(_load(plan).resources[0].attributes["sqs_managed_sse_enabled"], Unknown)


def test_terraform_012_bare_reference_names_the_resource() -> None:
    # Terraform 0.12 plans record `"references": ["aws_kms_key.k"]`, without the attribute
    plan = _plan(planned=[_entry("aws_sqs_queue.q", {"name": "q"})],
                 changes=[_change("aws_sqs_queue.q", ["create"], {"name": "q"}, {"kms_master_key_id": True})],
                 config_resources=[_config("aws_sqs_queue.q", "aws", {"kms_master_key_id": {
                     "references": ["aws_kms_key.k"]}})], version="0.1")
    assert _load(plan).resources[0].attributes["kms_master_key_id"] == Ref("aws_kms_key.k", "")


def test_module_output_references_are_followed_into_the_module() -> None:
    # terraform-aws-modules/terraform-aws-kms outputs.tf: key_arn = try(aws_kms_key.this[0].arn, ...); callers pass
    # `kms_master_key_id = module.kms.key_arn`
    calls = {"kms": {"source": "terraform-aws-modules/kms/aws", "module": {
        "outputs": {"key_arn": {"expression": {"references": ["aws_kms_key.this[0].arn", "aws_kms_key.this[0]",
                                                              "aws_kms_key.this"]}}},
        "resources": [dict(_config("aws_kms_key.this", "kms:aws"), count_expression={"constant_value": 1})]}}}
    plan = _plan(planned=[_entry("aws_sqs_queue.q", {"name": "q"})],
                 changes=[_change("aws_sqs_queue.q", ["create"], {"name": "q"}, {"kms_master_key_id": True})],
                 config_resources=[_config("aws_sqs_queue.q", "aws", {"kms_master_key_id": {
                     "references": ["module.kms.key_arn", "module.kms"]}})], calls=calls)
    assert _load(plan).resources[0].attributes["kms_master_key_id"] == Ref("module.kms.aws_kms_key.this[0]", "arn")
