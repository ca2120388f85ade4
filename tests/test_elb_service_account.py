"""``data "aws_elb_service_account"`` evaluates offline as the provider does (issue 18, RES006).

The idiom of terraform-aws-modules/terraform-aws-s3-bucket's ELB log-delivery policy names the Region's
Elastic Load Balancing account through the data source; unevaluated, the principal was unresolved. The
provider answers ``arn:<partition>:iam::<account>:root`` (``id`` = the account) for its ``region`` argument or
else the provider's region, and errors on a Region it has no account for: here that stays unresolved.
Judged on the real parsed fixtures under fixtures/terraform/access/elb_service_account/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_access_rule import _scan

ELB = FIXTURES / "terraform" / "access" / "elb_service_account"


def _policy_principals(path: Path) -> list:
    """The AWS principals of the loaded bucket policy, straight from the loader (no rule involved)."""
    from scanner.loaders.terraform import TerraformOptions, load_terraform

    result = load_terraform([path], path, TerraformOptions())
    (res,) = [r for r in result.resources if r.address == "aws_s3_bucket_policy.this"]
    return [st["Principal"]["AWS"] for st in res.attributes["policy"].structure["Statement"]]


def test_region_argument_picks_that_regions_account() -> None:
    (f,) = [f for f in _scan(ELB / "failing") if f.resource == "aws_s3_bucket.this"]
    assert f.category.value == "access"
    assert "127311923021" in f.message and "us-east-1" in f.message and "Elastic Load Balancing" in f.message
    assert f.severity.value == "medium"  # write-only log delivery


def test_without_region_argument_the_providers_region_applies() -> None:
    assert _scan(ELB / "passing") == []


@pytest.mark.parametrize(("region", "arn"), [
    ('region = "us-east-1"', "arn:aws:iam::127311923021:root"),
    ("", "arn:aws:iam::156460612806:root"),
])
def test_loader_evaluates_arn(tmp_path: Path, region: str, arn: str) -> None:
    src = (ELB / "failing" / "main.tf").read_text().replace('region = "us-east-1"', region)
    (tmp_path / "main.tf").write_text(src)
    assert _policy_principals(tmp_path) == [arn]


def test_id_is_the_account_and_partition_follows_the_provider(tmp_path: Path) -> None:
    src = (ELB / "failing" / "main.tf").read_text().replace('"eu-west-1"', '"cn-north-1"').replace(
        '"us-east-1"', '"cn-northwest-1"')
    (tmp_path / "main.tf").write_text(src)
    assert _policy_principals(tmp_path) == ["arn:aws-cn:iam::037604701340:root"]
    (tmp_path / "main.tf").write_text(src.replace("data.aws_elb_service_account.this.arn",
                                                  '"x-${data.aws_elb_service_account.this.id}"'))
    assert _policy_principals(tmp_path) == ["x-037604701340"]


@pytest.mark.parametrize("region", ["ap-south-2", "mars-north-1"])
def test_region_without_an_account_fails_closed(tmp_path: Path, region: str) -> None:
    """ap-south-2 (Hyderabad) opened after August 2022: no account; the provider errors, we stay unresolved."""
    src = (ELB / "failing" / "main.tf").read_text().replace('"us-east-1"', f'"{region}"')
    (tmp_path / "main.tf").write_text(src)
    found = _scan(tmp_path)
    assert {f.resource for f in found} == {"aws_s3_bucket.this", "aws_s3_bucket.alb"}  # data source and jsonencode
    for f in found:
        assert f.category.value == "unresolved" and f.blocking
        assert "no Elastic Load Balancing log-delivery account" in f.message and region in f.message


def test_table_is_one_file_read_by_loader_and_rule() -> None:
    from checks.iam_document import ELB_LOG_ACCOUNTS, aws_principal
    from scanner.regions.elb import elb_log_account

    assert ELB_LOG_ACCOUNTS["156460612806"] == "eu-west-1" == aws_principal("AWS", "156460612806").region
    assert elb_log_account("eu-west-1") == "156460612806" and elb_log_account("eu-central-2") is None


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["failing", "passing"])
def test_checkov_mode_gives_no_result_for_the_data_source(unit: str, tmp_path: Path) -> None:
    """checkov shows the principal only as ``data.aws_elb_service_account.<name>.arn`` (the data source's region
    and the provider's are other blocks): CKV_RES_6 gives no result for those grants instead of failing the
    Irish passing twin as unresolved. Judged by the real checkov on the fixtures."""
    from tests import checkov_venv
    from tests.test_checkov import _export, _run_checkov

    exe = checkov_venv.ensure()
    checks = _export(FIXTURES / "terraform" / "access" / "residency.yaml", tmp_path / "checks")
    records = _run_checkov(exe, ELB / unit, checks, ["."])
    assert not [r for r in records if r["check_id"] == "CKV_RES_6"]
    natively = {f.origin[1] for f in _scan(ELB / unit) if f.blocking and f.origin}
    assert natively == ({"aws_s3_bucket_policy.this", "aws_s3_bucket_policy.alb"} if unit == "failing" else set())



def test_adapter_leaves_the_data_source_out_of_view(tmp_path: Path) -> None:
    """The checkov adapter (no checkov needed): a bucket policy whose principal checkov leaves as
    ``data.aws_elb_service_account.x.arn`` gets no result; a literal US account in its place still fails."""
    from tests.test_checkov import _judge, _tf

    judge = _judge((FIXTURES / "terraform" / "access" / "residency.yaml").read_text(), tmp_path)

    def policy(principal: str) -> object:
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                                                         "Action": "s3:PutObject", "Resource": "*"}]}
        return _tf("aws_s3_bucket_policy", bucket="aws_s3_bucket.alb.id", policy=doc)  # jsonencode: an object

    assert judge.outcome("RES006", [policy("data.aws_elb_service_account.main.arn")]).result == "UNKNOWN"
    assert judge.outcome("RES006", [policy("arn:aws:iam::444455556666:root")]).result == "FAILED"
