"""The evaluator keeps what a policy document says: jsonencode structure with unknown leaves,
static aws_iam_policy_document / google_iam_policy, and a symbolic self for the caller's identity."""

from __future__ import annotations

from pathlib import Path

from scanner.loaders.hcl_eval import Encoded
from scanner.loaders.terraform import TerraformOptions, load_terraform
from scanner.model import Ref, Unknown


def _load(tmp_path: Path, text: str) -> dict:
    (tmp_path / "main.tf").write_text(text)
    result = load_terraform([tmp_path], tmp_path, TerraformOptions())
    return {r.address: r for r in result.resources}


BUCKET = 'provider "aws" {\n  region = "eu-west-1"\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'


def test_jsonencode_with_an_unknown_leaf_keeps_the_principal(tmp_path: Path) -> None:
    res = _load(tmp_path, BUCKET + '''
resource "aws_s3_bucket_policy" "p" {
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::444455556666:root" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.b.arn}/*"
    }]
  })
}
''')
    policy = res["aws_s3_bucket_policy.p"].attributes["policy"]
    assert isinstance(policy, Encoded) and isinstance(policy, Unknown)  # still fails closed as text
    st = policy.structure["Statement"][0]
    assert st["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}
    assert isinstance(st["Resource"], Unknown)


def test_jsonencode_of_known_values_is_text_and_jsondecode_round_trips(tmp_path: Path) -> None:
    res = _load(tmp_path, BUCKET + '''
locals {
  doc = jsonencode({ Statement = [{ Effect = "Allow", Resource = aws_s3_bucket.b.arn }] })
}
resource "aws_s3_bucket_policy" "p" {
  bucket = "b"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*" }] })
  tags   = { r = jsondecode(local.doc).Statement[0].Effect }
}
''')
    attrs = res["aws_s3_bucket_policy.p"].attributes
    assert attrs["policy"] == '{"Statement":[{"Effect":"Allow","Principal":"*"}]}'
    assert attrs["tags"] == {"r": "Allow"}


def test_operations_on_an_encoded_value_are_plain_unknown(tmp_path: Path) -> None:
    res = _load(tmp_path, BUCKET + '''
resource "aws_s3_bucket_policy" "p" {
  bucket = "b"
  policy = "${jsonencode({ Resource = aws_s3_bucket.b.arn })}x"
  tags   = { a = jsonencode(aws_s3_bucket.b.arn) }
}
''')
    attrs = res["aws_s3_bucket_policy.p"].attributes
    assert type(attrs["policy"]) is Unknown
    assert not isinstance(attrs["tags"]["a"], Encoded) and isinstance(attrs["tags"]["a"], Unknown)
    assert isinstance(Ref("x"), Ref)


DOCUMENT = BUCKET + '''
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Deny"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.b.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

data "aws_iam_policy_document" "p" {
  source_policy_documents = [data.aws_iam_policy_document.base.json]
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.b.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:root",
                     "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  dynamic "statement" {
    for_each = toset(["s3:PutObject"])
    content {
      sid     = "Dyn"
      actions = [statement.value]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "p" {
  bucket = aws_s3_bucket.b.id
  policy = data.aws_iam_policy_document.p.json
}
'''


def test_aws_iam_policy_document_is_evaluated_with_sources_dynamic_and_self(tmp_path: Path) -> None:
    from checks.iam_document import statements

    policy = _load(tmp_path, DOCUMENT)["aws_s3_bucket_policy.p"].attributes["policy"]
    assert isinstance(policy, Encoded)
    deny, read, dyn = statements(policy.structure)
    assert deny.effect == "Deny" and deny.public and deny.conditions == (("Bool", "aws:SecureTransport", ("false",)),)
    assert read.sid == "Read" and read.actions == ("s3:GetObject",)
    ours = read.principals["AWS"][1]
    assert read.principals["AWS"][0] == "arn:aws:iam::444455556666:root"
    assert isinstance(ours, Unknown) and ours.text == "arn:aws:iam::${self:aws}:root"
    assert dyn.principals == {"Service": ("logging.s3.amazonaws.com",)}
    (cond,) = dyn.conditions
    assert cond[:2] == ("StringEquals", "aws:SourceAccount") and cond[2][0].text == "${self:aws}"


def test_override_replaces_by_sid_and_known_documents_are_text(tmp_path: Path) -> None:
    res = _load(tmp_path, BUCKET + '''
data "aws_iam_policy_document" "a" {
  statement {
    sid       = "S"
    actions   = ["s3:GetObject"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["444455556666"]
    }
  }
}
data "aws_iam_policy_document" "b" {
  statement {
    sid       = "S"
    actions   = ["s3:ListBucket"]
    resources = ["*"]
  }
  override_policy_documents = [data.aws_iam_policy_document.a.json]
}
resource "aws_s3_bucket_policy" "p" {
  bucket = "b"
  policy = data.aws_iam_policy_document.b.json
}
''')
    import json

    doc = json.loads(res["aws_s3_bucket_policy.p"].attributes["policy"])
    assert doc["Statement"] == [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                 "Principal": {"AWS": "444455556666"}}]


def test_google_iam_policy_and_identity_data_sources(tmp_path: Path) -> None:
    res = _load(tmp_path, '''
provider "google" {
  region = "europe-west1"
}
data "google_project" "this" {}
data "azurerm_client_config" "me" {}
data "google_iam_policy" "p" {
  binding {
    role    = "roles/storage.objectViewer"
    members = ["user:bob@us.example.com",
               "serviceAccount:service-${data.google_project.this.number}@gs-project-accounts.iam.gserviceaccount.com"]
  }
}
resource "google_storage_bucket_iam_policy" "p" {
  bucket      = "b"
  policy_data = data.google_iam_policy.p.policy_data
}
resource "google_storage_bucket" "b" {
  name     = "b"
  location = "EU"
  labels   = { t = data.azurerm_client_config.me.tenant_id, p = data.google_project.this.project_id }
}
''')
    data = res["google_storage_bucket_iam_policy.p"].attributes["policy_data"]
    assert isinstance(data, Encoded)
    (binding,) = data.structure["bindings"]
    assert binding["role"] == "roles/storage.objectViewer" and binding["members"][0] == "user:bob@us.example.com"
    agent = "serviceAccount:service-${self:gcp:number}@gs-project-accounts.iam.gserviceaccount.com"
    assert binding["members"][1].text == agent
    labels = res["google_storage_bucket.b"].attributes["labels"]
    assert labels["t"].text == "${self:azure}" and labels["p"].text == "${self:gcp}"


def test_placeholders_replaced_in_a_rendered_document_keep_its_principals(tmp_path: Path) -> None:
    """terraform-aws-modules/s3-bucket (v5.15.4 main.tf, dd0c434): compact() of policy documents into
    source_policy_documents, then replace() of _S3_BUCKET_ARN_ placeholders by the bucket's computed ARN."""
    from checks.iam_document import statements

    res = _load(tmp_path, BUCKET + '''
data "aws_iam_policy_document" "user" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["_S3_BUCKET_ARN_/*"]
    principals {
      type        = "AWS"
      identifiers = ["444455556666"]
    }
  }
}
data "aws_iam_policy_document" "tls" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["${aws_s3_bucket.b.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
data "aws_iam_policy_document" "combined" {
  source_policy_documents = compact([data.aws_iam_policy_document.tls.json, "", data.aws_iam_policy_document.user.json])
}
resource "aws_s3_bucket_policy" "p" {
  bucket = aws_s3_bucket.b.id
  policy = replace(data.aws_iam_policy_document.combined.json, "_S3_BUCKET_ARN_", aws_s3_bucket.b.arn)
}
''')
    policy = res["aws_s3_bucket_policy.p"].attributes["policy"]
    assert isinstance(policy, Encoded)
    deny, read = statements(policy.structure)
    assert deny.effect == "Deny" and read.principals == {"AWS": ("444455556666",)}
    (resource,) = read_resources = [policy.structure["Statement"][1]["Resource"]]
    assert read_resources and resource.text == "${aws_s3_bucket.b.arn}/*"


def test_try_coalesce_one_element_keep_the_symbolic_self(tmp_path: Path) -> None:
    """terraform-aws-modules/terraform-aws-kms main.tf (407e3db): ``try(data.aws_caller_identity.current[0]
    .account_id, "")`` feeds a data policy document read through ``coalesce(var.policy, ...json)``; the self,
    the caller's ARN and the partition's DNS suffix must survive, as references do."""
    res = _load(tmp_path, BUCKET + '''
variable "policy" {
  type    = string
  default = null
}
data "aws_caller_identity" "current" {
  count = 1
}
data "aws_partition" "current" {
  count = 1
}
locals {
  account_id = try(data.aws_caller_identity.current[0].account_id, "")
  dns_suffix = try(data.aws_partition.current[0].dns_suffix, "")
}
data "aws_iam_policy_document" "this" {
  statement {
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root", data.aws_caller_identity.current[0].arn,
                     coalesce(null, local.account_id), one([local.account_id]), element([local.account_id], 0)]
    }
    principals {
      type        = "Service"
      identifiers = ["dnssec-route53.${local.dns_suffix}"]
    }
  }
}
resource "aws_kms_key" "k" {
  policy = coalesce(var.policy, data.aws_iam_policy_document.this.json)
}
''')
    policy = res["aws_kms_key.k"].attributes["policy"]
    assert isinstance(policy, Encoded)
    st = policy.structure["Statement"][0] if isinstance(policy.structure["Statement"], list) else \
        policy.structure["Statement"]
    texts = [getattr(p, "text", p) for p in st["Principal"]["AWS"]]
    assert texts == ["arn:aws:iam::${self:aws}:root", "${self:aws:arn}", "${self:aws}", "${self:aws}",
                     "${self:aws}"]
    assert st["Principal"]["Service"] == "dnssec-route53.amazonaws.com"
