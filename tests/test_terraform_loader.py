"""The Terraform loader against real files under fixtures/terraform/loader/ (no policy, no rules)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.loaders.hcl_eval import Scope, call_function, evaluate_value
from scanner.loaders.hcl_parse import ParseError, parse_hcl, parse_template, parse_tf_json
from scanner.loaders.terraform import RootContext, TerraformOptions, discover_modules, load_terraform
from scanner.model import Category, Ref, Unknown

F = Path(__file__).resolve().parent.parent / "fixtures" / "terraform" / "loader"


def load(name: str, scan_root: str | None = None, **opts: object):
    root = F / (scan_root or name)
    return load_terraform([F / name], root, TerraformOptions(**opts))


def by_address(result) -> dict:
    return {r.address: r for r in result.resources}


# ---- parsing -------------------------------------------------------------------------------

def test_block_lines_and_comments_come_from_the_one_parse():
    # python-hcl2's with_meta emits no lines (its issue #291): lines come from the lark tree.
    pf = parse_hcl((F / "aliases" / "main.tf").read_text(), "main.tf")
    lines = {(b.type, b.labels): (b.line, b.end_line) for b in reversed(pf.blocks)}
    assert lines[("provider", ("aws",))] == (1, 6)
    assert lines[("resource", ("aws_s3_bucket", "eu"))] == (14, 16)
    assert lines[("module", ("repl",))] == (49, 55)
    assert (13, '# residency:ignore RES001 reason="legacy" expires=2030-01-01') in pf.comments


def test_all_comment_styles_with_lines():
    text = 'a = 1 // two\n# three\n/* four\nfive */\nb = 2\n'
    assert parse_hcl(text, "x.tf").comments == [(1, "// two"), (2, "# three"), (3, "/* four\nfive */")]


def test_parsed_file_is_picklable():
    pf = parse_hcl((F / "expressions" / "main.tf").read_text(), "main.tf")
    assert pickle.loads(pickle.dumps(pf)) == pf


def test_tf_json_lines():
    pf = parse_tf_json((F / "json" / "main.tf.json").read_text(), "main.tf.json")
    lines = {(b.type, b.labels): b.line for b in pf.blocks}
    assert lines[("resource", ("aws_s3_bucket", "a"))] == 20
    assert lines[("resource", ("aws_s3_bucket", "b"))] == 23


def test_parse_error_carries_line():
    with pytest.raises(ParseError) as exc:
        parse_hcl('a = 1\nb = = 2\n', "x.tf")
    assert exc.value.line == 2


def test_heredoc_template():
    pf = parse_hcl('x = <<-EOT\n    hi ${var.a}\n     two\n  EOT\n', "x.tf")
    assert pf.attrs["x"].expr == ("tmpl", ("hi ", ("i", ("get", ("name", "var"), (("a", "a"),))), "\n two\n"))


@pytest.mark.parametrize("text,value", [
    ('x = <<EOT\nhello\n  %{~ for r in var.l ~}\n  ${r}\n  %{~ endfor ~}\nEOT\n', "helloab"),
    ('x = "a  %{~ if true ~}  c  %{~ endif ~} d"\n', "acd"),
    ('x = <<EOT\n  ${~ var.b ~}  \nz\nEOT\n', "Bz\n"),
    ('x = <<EOT\n  ${var.b}  \nEOT\n', "  B  \n"),
])
def test_template_strip_markers_remove_adjacent_whitespace(text, value):
    scope = Scope(lambda name: {"var": {"l": ["a", "b"], "b": "B"}}[name])
    assert evaluate_value(parse_hcl(text, "x.tf").attrs["x"].expr, scope) == value


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="$%"), max_size=30))
def test_string_literals_round_trip_through_templates(s):
    scope = Scope(lambda name: {"v": s}[name])
    assert evaluate_value(parse_template("${v}", "t"), scope) == s
    assert evaluate_value(parse_template("<${v}>", "t"), scope) == f"<{s}>"


# ---- providers and modules -----------------------------------------------------------------

def test_provider_aliases_default_tags_and_provenance():
    res = by_address(load("aliases"))
    eu, us = res["aws_s3_bucket.eu"], res["aws_s3_bucket.us"]
    assert (eu.file, eu.line, eu.end_line) == ("main.tf", 14, 16)
    assert eu.provider.region == "eu-west-1" and eu.provider.source == "provider aws (main.tf:1)"
    assert eu.provider.default_tags == {"owner": "data"}
    assert us.provider.region == "us-east-1" and us.provider.source == "provider aws.us (main.tf:8)"
    assert "provider" not in us.attributes
    assert eu.extra["comments"] == [(13, '# residency:ignore RES001 reason="legacy" expires=2030-01-01')]


def test_data_aws_region_follows_its_provider():
    named = by_address(load("aliases"))["aws_s3_bucket.named"]
    assert named.attributes == {"bucket": "logs-eu-west-1", "tags": {"other": "us-east-1"}}


def test_module_providers_map_inheritance_and_nesting():
    res = by_address(load("aliases"))
    store = res["module.us_store.aws_s3_bucket.this"]
    assert store.attributes == {"bucket": "store-us"}
    assert store.provider.region == "us-east-1" and store.provider.source == "provider aws.us (main.tf:8)"
    assert (store.file, store.module_dir, store.root_dir) == ("modules/store/main.tf", "modules/store", ".")
    # without `providers`, only the default configuration is inherited, never aliases
    assert res["module.inherit.aws_s3_bucket.this"].provider.region == "eu-west-1"
    aliased = res["module.inherit.aws_s3_bucket.aliased"].provider.region
    assert isinstance(aliased, Unknown) and "never inherited" in aliased.reason
    assert res["module.repl.aws_s3_bucket.src"].provider.region == "eu-west-1"
    assert res["module.repl.aws_s3_bucket.dst"].provider.region == "us-east-1"
    inner = res["module.outer.module.inner.aws_dynamodb_table.t"]
    assert inner.attributes == {"name": "t-deep"} and inner.provider.region == "eu-west-1"


def test_discover_modules_roots_and_callers():
    dirs = [F / "aliases", F / "aliases/modules/store", F / "aliases/modules/outer",
            F / "aliases/modules/outer/inner", F / "aliases/modules/replica"]
    graph = discover_modules(dirs, F / "aliases")
    assert graph.roots == [(F / "aliases").resolve()]
    assert graph.roots_for(F / "aliases/modules/outer/inner") == [(F / "aliases").resolve()]


def test_child_module_only_is_evaluated_through_its_caller():
    result = load("child_only/modules/db", scan_root="child_only")
    assert [r.address for r in result.resources] == ["module.db.aws_db_instance.main"]
    db = result.resources[0]
    assert db.attributes == {"identifier": "db-eu-north-1"} and db.provider.region == "eu-north-1"
    assert db.root_dir == "." and db.module_dir == "modules/db"
    assert any("evaluated through root" in n.message for n in result.notes)


# ---- variables -----------------------------------------------------------------------------

def test_variable_precedence():
    opts = {"var_files": [F / "variables" / "extra.tfvars"],
            "variables": {"from_cli": "cli", "regions": '["a", "b"]', "count_n": "4"},
            "env": {"TF_VAR_from_env": "env", "TF_VAR_from_default": "eu-south-1"}}
    b = load("variables", **opts).resources[0]
    tags = b.attributes["tags"]
    assert tags["tfvars"] == "tfvars"
    assert tags["auto"] == "b-auto-json"  # *.auto.tfvars(.json) in lexical order, after terraform.tfvars
    assert tags["env"] == "tfvars-not-env"  # terraform.tfvars beats TF_VAR_
    assert tags["var_file"] == "var-file" and tags["cli"] == "cli"
    assert tags["regions"] == "a,b" and tags["count"] == 5  # typed -var values
    assert tags["missing"] == Unknown("var.no_value has no value")
    assert b.provider.region == "eu-south-1"


def test_tf_var_only_with_env():
    b = load("variables", env=None).resources[0]
    assert b.provider.region == "eu-west-1"
    assert b.attributes["tags"]["cli"] == "default"


def test_root_context_var_files_and_region(tmp_path):
    (tmp_path / "main.tf").write_text('variable "r" {}\nprovider "aws" {}\n'
                                      'resource "aws_s3_bucket" "b" { bucket = var.r }\n')
    (tmp_path / "ci.tfvars").write_text('r = "from-policy"\n')
    ctx = RootContext(region="eu-west-3", var_files=[Path("ci.tfvars")])
    res = load_terraform([tmp_path], tmp_path, TerraformOptions(root_context=lambda rel: ctx)).resources[0]
    assert res.attributes == {"bucket": "from-policy"}
    assert res.provider.region == "eu-west-3"
    assert res.provider.source == "policy terraform.roots (residency.yaml)"
    plain = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources[0]
    assert isinstance(plain.provider.region, Unknown)
    assert "no region argument" in plain.provider.region.reason


def test_no_provider_block_is_unknown(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n'
                                      'resource "azurerm_resource_group" "g" {}\n')
    res = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))
    assert "no provider block" in res["aws_s3_bucket.b"].provider.region.reason
    assert res["azurerm_resource_group.g"].provider.region is None


# ---- expressions ---------------------------------------------------------------------------

def test_count_for_each_dynamic_and_references():
    res = by_address(load("expressions"))
    assert res["aws_db_instance.db[1]"].attributes == {"identifier": "db-1"}
    logs = res['aws_s3_bucket.logs["us-east-1"]']
    assert logs.attributes == {"bucket": "logs-us-east-1", "region": "us-east-1"}
    assert res['aws_s3_bucket.by_map["dr"]'].attributes["region"] == "eu-north-1"
    assert res["aws_dynamodb_table.global"].attributes["replica"] == [
        {"region_name": "eu-west-2"}, {"region_name": "eu-west-3"}]
    assert res["azurerm_storage_account.sa"].attributes["location"] == "westeurope"
    r = res["aws_s3_bucket_replication_configuration.r"].attributes
    assert r["bucket"] == Ref('aws_s3_bucket.logs["eu-west-1"]', "id")
    assert r["rule"][0]["destination"][0]["bucket"] == Ref('aws_s3_bucket.by_map["dr"]', "arn")
    assert r["region"] == "eu-north-1"


def test_unknown_count_keeps_one_resource():
    u = by_address(load("expressions"))["aws_s3_bucket.unknown_count"]
    assert u.attributes == {"bucket": "u"}
    assert "not evaluated statically" in u.extra["expansion_unknown"]


def test_locals_and_functions():
    tags = by_address(load("expressions"))["aws_s3_bucket.funcs"].attributes["tags"]
    assert tags["chain"] == "c-x"
    assert tags["cycle"] == Unknown("cycle: local.loop1 -> local.loop2 -> local.loop1")
    assert (tags["lookup"], tags["lookdef"], tags["coalesce"], tags["try"]) == ("eu-north-1", "none", "first",
                                                                                "fallback")
    assert (tags["format"], tags["join"]) == ("x-007", "Alpha/Beta")
    assert (tags["merge"], tags["element"]) == (2, "Beta")
    assert (tags["lower"], tags["cond"], tags["forexpr"], tags["splat"]) == ("eu-west-1", "many", "ALPHA",
                                                                             "db-0,db-1")
    assert tags["ssm"] == Unknown("data source data.aws_ssm_parameter.region is not evaluated statically")
    assert tags["ws"] == Unknown("terraform.workspace depends on the selected workspace")


def test_function_details():
    assert call_function("regex", "^([a-z]+)-(\\w+)", "eu-west") == ["eu", "west"]
    assert call_function("replace", "eu-west-1", "/-(\\d)$/", "_$1") == "eu-west_1"
    assert call_function("jsonencode", {"b": 1, "a": [True]}) == '{"a":[true],"b":1}'
    assert call_function("substr", "europe-west1", 0, 6) == "europe"
    assert call_function("title", "west europe") == "West Europe"
    assert call_function("flatten", [["a"], [["b"]]]) == ["a", "b"]


def test_set_functions_and_sensitivity_wrappers(tmp_path):
    # Azure/terraform-azurerm-avm-utl-regions@9064b20 locals.filters.tf filters regions by set theory; Terraform
    # orders a set of strings lexically. fixtures/terraform/realistic/azure_avm_regions scans it end to end.
    assert call_function("setintersection", ["b", "a", "c"], ["c", "a"], ["a", "c", "d"]) == ["a", "c"]
    assert call_function("setunion", ["b"], ["a", "b"]) == ["a", "b"]
    assert call_function("setsubtract", ["a", "b", "c"], ["b"]) == ["a", "c"]
    assert call_function("setintersection", [{"k": 1}, {"k": 2}], [{"k": 2}]) == [{"k": 2}]
    assert (call_function("alltrue", []), call_function("alltrue", [True, False])) == (True, False)
    assert (call_function("anytrue", []), call_function("anytrue", [False, True])) == (False, True)
    assert call_function("basename", "modules/s3/main.tf") == "main.tf"
    (tmp_path / "main.tf").write_text('''
resource "aws_kms_key" "k" {}
resource "null_resource" "p" {
  sens   = sensitive(aws_kms_key.k.arn)
  nonsen = nonsensitive("eu-west-1")
}
''')
    p = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["null_resource.p"].attributes
    assert p["sens"] == Ref("aws_kms_key.k", "arn")  # a sensitive key ARN still names its key
    assert p["nonsen"] == "eu-west-1"


# ---- file sets -----------------------------------------------------------------------------

def test_tf_json_resources_and_aliases():
    res = by_address(load("json"))
    assert res["aws_s3_bucket.a"].attributes == {"bucket": "cdk-a"}
    assert (res["aws_s3_bucket.a"].file, res["aws_s3_bucket.a"].line) == ("main.tf.json", 20)
    assert res["aws_s3_bucket.b"].provider.region == "us-east-1"


def test_tofu_precedence_and_override():
    (b,) = load("tofu").resources
    assert b.file == "main.tofu"
    assert b.attributes == {"bucket": "from-tofu", "acl": "overridden"}
    assert b.provider.region == "eu-west-1"


def test_registry_module_through_manifest():
    (vpc,) = load("registry").resources
    assert vpc.address == "module.vpc.aws_vpc.this"
    assert vpc.file == ".terraform/modules/vpc/main.tf"
    assert vpc.attributes["tags"] == {"Name": "main"}


def test_registry_module_without_init_is_a_problem():
    result = load("registry_noinit")
    (p,) = result.problems
    assert (p.category, p.file, p.line, p.resource) == (Category.UNRESOLVED, "main.tf", 5, "module.vpc")
    assert "terraform init" in p.message


def test_module_source_outside_scan_root_is_refused():
    result = load("outside/root", scan_root="outside")
    (p,) = result.problems
    assert "outside the scan root" in p.message and result.resources == []


def test_terragrunt_dir():
    (p,) = load("terragrunt").problems
    assert p.category == Category.UNRESOLVED and p.file == "terragrunt.hcl"
    assert "terragrunt show -json" in p.message


def test_parse_error_is_a_problem_and_other_files_load():
    result = load("parse_error")
    (p,) = result.problems
    assert (p.category, p.file, p.line) == (Category.PARSE, "bad.tf", 7)
    assert [r.address for r in result.resources] == ["aws_s3_bucket.good"]
    assert result.files == 2


def test_max_instances(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  count = 50\n}\n')
    result = load_terraform([tmp_path], tmp_path, TerraformOptions(max_instances=10))
    assert result.resources == [] and result.problems[0].line == 1


def test_module_count_and_for_each_addresses(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text('variable "r" {}\n'
                                            'resource "aws_s3_bucket" "b" { region = var.r }\n')
    (tmp_path / "main.tf").write_text(
        'provider "aws" { region = "eu-west-1" }\n'
        'module "a" {\n  source = "./m"\n  for_each = toset(["x"])\n  r = each.key\n}\n'
        'module "c" {\n  source = "./m"\n  count = 1\n  r = "n${count.index}"\n}\n')
    res = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))
    assert res['module.a["x"].aws_s3_bucket.b'].attributes == {"region": "x"}
    assert res["module.c[0].aws_s3_bucket.b"].attributes == {"region": "n0"}


def test_unset_region_of_another_resource_is_its_providers(tmp_path):
    (tmp_path / "main.tf").write_text(
        'provider "aws" { region = "eu-west-1" }\n'
        'provider "aws" {\n  alias  = "us"\n  region = "us-east-1"\n}\n'
        'provider "google" {\n  region = "europe-west4"\n  zone = "europe-west4-a"\n}\n'
        'resource "aws_s3_bucket" "src" { provider = aws.us }\n'
        'resource "aws_s3_bucket" "own" { region = "eu-north-1" }\n'
        'resource "google_sql_database_instance" "db" {}\n'
        'resource "aws_kms_key" "k" {\n'
        '  region = aws_s3_bucket.src.region\n'
        '  tags = {\n    b = aws_s3_bucket.src.bucket_region\n    own = aws_s3_bucket.own.bucket_region\n'
        '    arn = aws_s3_bucket.src.arn\n    g = google_sql_database_instance.db.region\n'
        '    z = google_sql_database_instance.db.zone\n  }\n}\n')
    k = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["aws_kms_key.k"]
    assert k.attributes["region"] == "us-east-1"
    assert k.attributes["tags"] == {"b": "us-east-1", "own": "eu-north-1", "arn": Ref("aws_s3_bucket.src", "arn"),
                                    "g": "europe-west4", "z": "europe-west4-a"}


def test_unset_region_with_region_less_provider_stays_unknown(tmp_path):
    (tmp_path / "main.tf").write_text('provider "aws" {}\nresource "aws_s3_bucket" "src" {}\n'
                                      'resource "aws_s3_bucket" "dst" { region = aws_s3_bucket.src.region }\n')
    dst = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["aws_s3_bucket.dst"]
    assert isinstance(dst.attributes["region"], Unknown) and "no region argument" in dst.attributes["region"].reason


def test_optional_object_attributes_take_their_defaults(tmp_path):
    (tmp_path / "main.tf").write_text('''
variable "enc" {
  type = object({
    create_key = optional(bool, false)
    key_name   = optional(string)
    rotation   = optional(object({ days = optional(number, 90) }), {})
  })
  default = {}
}
variable "buckets" {
  type = map(object({ location = optional(string, "EU"), versioning = optional(bool, true) }))
  default = { logs = {}, media = { location = "europe-west4" } }
}
resource "google_storage_bucket" "b" {
  for_each = var.buckets
  name     = each.key
  location = each.value.location
  labels   = { create = var.enc.create_key ? "yes" : "no", key = coalesce(var.enc.key_name, "none"),
               days = var.enc.rotation.days }
}
''')
    res = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))
    assert res['google_storage_bucket.b["logs"]'].attributes["location"] == "EU"
    media = res['google_storage_bucket.b["media"]'].attributes
    assert media["location"] == "europe-west4"
    assert media["labels"] == {"create": "no", "key": "none", "days": 90}


def test_module_switched_off_by_count_needs_no_source(tmp_path):
    (tmp_path / "main.tf").write_text('variable "create_key" { default = false }\n'
                                      'module "kms" {\n  source = "terraform-google-modules/kms/google"\n'
                                      '  count  = var.create_key ? 1 : 0\n}\n'
                                      'module "on" {\n  source = "terraform-google-modules/kms/google"\n'
                                      '  count  = 1\n}\n'
                                      'resource "aws_s3_bucket" "b" {\n  tags = { k = try(module.kms[0].key, "none"),'
                                      ' n = length(module.kms) }\n}\n')
    result = load_terraform([tmp_path], tmp_path, TerraformOptions())
    assert [p.resource for p in result.problems] == ["module.on"]
    assert result.resources[0].attributes["tags"] == {"k": "none", "n": 0}


def test_partly_computed_names_keep_their_spelling(tmp_path):
    (tmp_path / "main.tf").write_text('''
resource "random_pet" "this" {}
locals { dst = "replica-${random_pet.this.id}" }
resource "aws_s3_bucket" "b" {
  bucket = local.dst
  tags = { arn = "arn:aws:s3:::${local.dst}", up = upper(local.dst), keys = flatten([random_pet.this.id]) }
}
''')
    from scanner.loaders.hcl_eval import Partial

    b = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources[-1].attributes
    assert b["bucket"] == Partial("random_pet.this.id is known only after apply", "replica-${random_pet.this.id}")
    assert b["tags"]["arn"].text == "arn:aws:s3:::replica-${random_pet.this.id}"
    assert type(b["tags"]["up"]) is Unknown  # a function of it is no longer the same name
    assert b["tags"]["keys"] == [Ref("random_pet.this", "id")]


def test_data_kms_alias_of_an_aws_managed_key_keeps_the_alias(tmp_path):
    (tmp_path / "main.tf").write_text('provider "aws" { region = "eu-west-1" }\n'
                                      'data "aws_kms_alias" "rds" { name = "alias/aws/rds" }\n'
                                      'data "aws_kms_alias" "own" { name = "alias/app" }\n'
                                      'resource "aws_db_instance" "db" {\n  storage_encrypted = true\n'
                                      '  kms_key_id = data.aws_kms_alias.rds.arn\n'
                                      '  tags = { own = data.aws_kms_alias.own.arn }\n}\n')
    db = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources[0].attributes
    assert db["kms_key_id"].text == "arn:aws:kms:eu-west-1:${account}:alias/aws/rds"
    assert type(db["tags"]["own"]) is Unknown


def test_references_keep_their_identity_through_functions(tmp_path):
    # issue 16 step 1: cloudposse/terraform-aws-s3-bucket (join("", x[*].arn)), terraform-aws-modules/terraform-aws-sqs
    # (try(coalesce(var.a, var.b), null)), Azure/avm-utl-regions (tolist(null)); Terraform yields the resource's value
    (tmp_path / "main.tf").write_text('''
variable "a" { default = null }
variable "d" { default = false }
resource "aws_s3_bucket" "x" { count = 1 }
resource "aws_s3_bucket" "one" {}
resource "aws_kms_key" "k" { count = 1 }
locals { m = { k = aws_kms_key.k[0].arn } }
resource "null_resource" "p" {
  join     = join("", aws_s3_bucket.x[*].arn)
  joinone  = join(",", [aws_s3_bucket.one.arn])
  joinmix  = join("/", ["arn:aws:s3:::b", aws_s3_bucket.one.id])
  coal     = coalesce(null, aws_s3_bucket.x[0].arn)
  coalvar  = coalesce(var.a, aws_s3_bucket.one.arn)
  tryc     = try(coalesce(var.a, aws_kms_key.k[0].arn), null)
  one      = one(aws_s3_bucket.x[*].arn)
  element  = element(aws_s3_bucket.x[*].arn, 0)
  concat   = concat(aws_s3_bucket.x[*].arn, [])
  lookup   = lookup(local.m, "k", null)
  cond     = var.d ? aws_s3_bucket.one.id : aws_s3_bucket.x[0].id
  fori     = [for b in aws_s3_bucket.x : b.arn][0]
  forjoin  = join("", [for k in aws_kms_key.k : k.arn])
  tolist   = tolist(null)
  toset    = toset(null)
  tomap    = tomap(null)
  unknown  = join("", [timestamp()])
}
''')
    p = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["null_resource.p"].attributes
    x_arn, k_arn = Ref("aws_s3_bucket.x[0]", "arn"), Ref("aws_kms_key.k[0]", "arn")
    assert (p["join"], p["coal"], p["one"], p["element"], p["fori"]) == (x_arn,) * 5
    assert (p["joinone"], p["coalvar"]) == (Ref("aws_s3_bucket.one", "arn"),) * 2
    assert (p["tryc"], p["lookup"], p["forjoin"]) == (k_arn,) * 3
    assert p["concat"] == [x_arn]
    assert p["cond"] == Ref("aws_s3_bucket.x[0]", "id")
    assert p["joinmix"].text == "arn:aws:s3:::b/${aws_s3_bucket.one.id}"
    assert (p["tolist"], p["toset"], p["tomap"]) == (None, None, None)
    assert type(p["unknown"]) is Unknown


def test_lookup_default_and_tostring_keep_a_reference(tmp_path):
    # lookup(var.settings, "kms_key_id", aws_kms_key.this.arn) returns the default when the key is absent, and
    # tostring() of a computed ARN is that ARN: both were "known only after apply" with no resource named
    (tmp_path / "main.tf").write_text('''
variable "m" { default = {} }
variable "given" { default = { kms = "arn:aws:kms:eu-west-1:111122223333:key/given" } }
resource "aws_kms_key" "s" {}
resource "null_resource" "p" {
  lkdef  = lookup(var.m, "kms", aws_kms_key.s.arn)
  lkhit  = lookup(var.given, "kms", aws_kms_key.s.arn)
  tostr  = tostring(aws_kms_key.s.arn)
  plain  = tostring(5)
}
''')
    p = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["null_resource.p"].attributes
    assert p["lkdef"] == p["tostr"] == Ref("aws_kms_key.s", "arn")
    assert p["lkhit"] == "arn:aws:kms:eu-west-1:111122223333:key/given"
    assert p["plain"] == "5"


def test_a_reference_compared_with_null_is_not_null(tmp_path):
    # terraform-google-modules/terraform-google-sql-db modules/postgresql/main.tf (25cf783):
    #   encryption_key = var.encryption_key_name != null ? var.encryption_key_name : ...
    # with encryption_key_name = google_kms_crypto_key.k.id: a resource's computed id/ARN is never null (as in
    # coalesce), so the comparison is decided and the key keeps who it names
    (tmp_path / "main.tf").write_text('''
variable "k" { default = null }
resource "google_kms_crypto_key" "k" {}
locals { key = google_kms_crypto_key.k.id }
resource "null_resource" "p" {
  ne    = local.key != null ? local.key : "none"
  eq    = local.key == null ? "none" : local.key
  rev   = null != local.key
  part  = "x-${google_kms_crypto_key.k.id}" == null
  var   = var.k != null ? var.k : "none"
  other = local.key == "x"
}
''')
    p = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["null_resource.p"].attributes
    key = Ref("google_kms_crypto_key.k", "id")
    assert (p["ne"], p["eq"], p["rev"], p["part"], p["var"]) == (key, key, True, False, "none")
    assert type(p["other"]) is Unknown  # compared with a value: still unknown


def test_an_unknown_attribute_read_by_reference_still_names_its_resource(tmp_path):
    # Azure/terraform-azurerm-avm-res-documentdb-databaseaccount examples: the account name has a random suffix
    (tmp_path / "main.tf").write_text('''
resource "random_string" "s" { length = 6 }
resource "azurerm_cosmosdb_account" "a" { name = substr(lower("c-${random_string.s.result}"), 0, 40) }
resource "azurerm_cosmosdb_sql_database" "d" {
  account_name = azurerm_cosmosdb_account.a.name
  tags         = { up = upper(azurerm_cosmosdb_account.a.name), t = "x-${azurerm_cosmosdb_account.a.name}" }
}
''')
    from scanner.loaders.hcl_eval import Named

    d = by_address(load_terraform([tmp_path], tmp_path, TerraformOptions()))["azurerm_cosmosdb_sql_database.d"]
    assert isinstance(d.attributes["account_name"], Named)
    assert d.attributes["account_name"].address == "azurerm_cosmosdb_account.a"
    assert type(d.attributes["tags"]["up"]) is Unknown and type(d.attributes["tags"]["t"]) is Unknown


# ---- providers configured from module outputs ---------------------------------------------------

def test_provider_reading_a_module_output_does_not_break_module_instantiation():
    """provider "kubernetes" { host = module.cluster.endpoint } beside module "cluster" (terraform-aws-eks's tests):
    instantiating the module inherits that provider; once a KeyError (exit 3). The module's stores are loaded."""
    res = by_address(load("provider_module_refs/settings"))
    assert res["module.cluster.aws_s3_bucket.state"].provider.region == "eu-west-1"
    assert res["aws_s3_bucket.us"].provider.region == "us-east-1"
    # arguments of providers whose settings do not locate data are not evaluated (they made the reads above)
    assert res["aws_s3_bucket.us"].provider.settings == {}


def test_provider_region_from_a_module_declared_later_is_computed():
    """region = module.config.region, module "config" declared after module "store": Terraform computes it, so
    both the root's and module.store's buckets are placed in eu-central-1 (not unresolved, not a crash)."""
    res = by_address(load("provider_module_refs/region"))
    assert res["aws_s3_bucket.root"].provider.region == "eu-central-1"
    assert res["module.store.aws_s3_bucket.state"].provider.region == "eu-central-1"


@pytest.mark.parametrize(("text", "value"), [
    ("local.l.*.r[0]", "us-east-2"),  # attribute-only splat: [0] ends it and indexes the list
    ("local.l[*].r", ["us-east-2", "eu-west-1"]),
    ("local.m.*.r[1]", ["z", "w"]),  # the second element's list
    ("local.m[*].r[1]", ["y", "w"]),  # full splat: [1] applies to each element
    ("local.l.*.r", ["us-east-2", "eu-west-1"]),
])
def test_attribute_only_splat_stops_at_an_index(text, value):
    """HCL spec, Splat Operators: `.*` takes only attribute steps; python-hcl2's grammar takes the index too."""
    scope = Scope(lambda name: {"local": {"l": [{"r": "us-east-2"}, {"r": "eu-west-1"}],
                                          "m": [{"r": ["x", "y"]}, {"r": ["z", "w"]}]}}[name])
    assert evaluate_value(parse_hcl(f"x = {text}\n", "x.tf").attrs["x"].expr, scope) == value
