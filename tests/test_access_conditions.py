"""RES006: when a condition narrows Principal "*" (issue 18: public clears only through a positive condition).

The conditions the public terraform-aws-modules examples use (sns:Endpoint naming a queue declared in the
configuration, elasticfilesystem:AccessedViaMountTarget = true) narrow ``*``; negated operators, ``...IfExists``,
``ForAllValues:``, wildcards and a false mount-target test never clear it; conditions of one statement are ANDed,
so the tightest bounds the grant.
"""

from __future__ import annotations

from tests.test_access_rule import ACCESS, _scan


def _findings(unit: str) -> list:
    return [f for f in _scan(ACCESS / unit) if f.file.endswith("conditions.tf")]


def test_positive_conditions_naming_placed_principals_clear_public() -> None:
    assert _findings("passing") == []


def test_negated_ifexists_forallvalues_wildcards_never_clear() -> None:
    found = {(f.resource, f.category.value, f.message.split(": ")[0].split(" is open to ")[-1]) for f in
             _findings("failing")}
    assert ("aws_sns_topic.alerts", "access", 'everyone (Principal "*")') in found  # negated/IfExists/ForAllValues
    assert ("aws_sns_topic.alerts", "access", "sns:Endpoint = arn:aws:sqs:*:*:inbox") in found
    assert ("aws_efs_file_system.scratch", "access", "elasticfilesystem:AccessedViaMountTarget = false") in found
    us = next(f for f in _findings("failing") if f.resource == "aws_sqs_queue.jobs")
    assert "aws:SourceAccount = 444455556666" in us.message and us.country == "US" and us.blocking
    assert len(_findings("failing")) == 4


def test_every_public_statement_is_named_once_per_principal() -> None:
    alerts = [f for f in _findings("failing") if f.resource == "aws_sns_topic.alerts"]
    assert len(alerts) == 2 and all(f.blocking for f in alerts)
