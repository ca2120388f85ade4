"""IAM policy documents normalise the same whether written as JSON text or evaluated jsonencode."""

from __future__ import annotations

import json

import pytest

from checks.iam_document import aws_principal, statements
from scanner.model import Unknown

BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "UsRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "s3:GetObject", "Resource": Unknown("aws_s3_bucket.b.arn is known after apply")},
        {"Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ],
}


def test_text_and_structure_give_the_same_statements() -> None:
    text = json.dumps({**BUCKET_POLICY, "Statement": [{**BUCKET_POLICY["Statement"][0], "Resource": "x"},
                                                      BUCKET_POLICY["Statement"][1]]})
    from_text, from_value = statements(text), statements(BUCKET_POLICY)
    assert from_text is not None and from_value is not None
    assert [s.principals for s in from_text] == [s.principals for s in from_value]
    first = from_value[0]
    assert first.sid == "UsRead" and first.effect == "Allow" and first.actions == ("s3:GetObject",)
    assert first.principals == {"AWS": ("arn:aws:iam::444455556666:root",)}


def test_star_principal_is_public_and_conditions_are_flattened() -> None:
    deny = statements(BUCKET_POLICY)[1]
    assert deny.public and deny.effect == "Deny"
    assert deny.conditions == (("Bool", "aws:SecureTransport", ("false",)),)


def test_single_statement_object_and_not_principal() -> None:
    doc = {"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root"]},
                         "Action": "kms:*"}}
    (st,) = statements(doc)
    assert st.not_principals == {"AWS": ("arn:aws:iam::111122223333:root",)} and not st.principals


def test_unreadable_documents_are_none_not_empty() -> None:
    assert statements("not json") is None
    assert statements({"Version": "2012-10-17"}) is None
    assert statements({"Statement": ["x"]}) is None


def test_unknown_principal_block_is_kept() -> None:
    (st,) = statements({"Statement": [{"Effect": "Allow", "Principal": Unknown("var.p has no value")}]})
    assert "?" in st.principals


@pytest.mark.parametrize(("kind", "value", "expect"), [
    ("AWS", "*", ("public", None, None)),
    ("AWS", "444455556666", ("account", "444455556666", None)),
    ("AWS", "arn:aws:iam::444455556666:root", ("account", "444455556666", None)),
    ("AWS", "arn:aws:iam::444455556666:role/reader", ("account", "444455556666", None)),
    ("AWS", "arn:aws:sts::444455556666:assumed-role/r/s", ("account", "444455556666", None)),
    ("AWS", "arn:aws-us-gov:iam::444455556666:root", ("account", "444455556666", None)),
    ("Service", "cloudtrail.amazonaws.com", ("service", None, None)),
    ("Service", "logs.eu-west-1.amazonaws.com", ("service", None, "eu-west-1")),
    ("Federated", "cognito-identity.amazonaws.com", ("other", None, None)),
    ("AWS", "AIDAEXAMPLEUSERID", ("other", None, None)),
])
def test_principal_strings_are_classified(kind, value, expect) -> None:
    p = aws_principal(kind, value)
    assert (p.kind, p.account, p.region) == expect
