"""The residency rules as checkov Terraform checks: one resource check per rule, one provider check.

Imported only inside checkov's process (by :mod:`scanner.checkov.runtime`); all translation and
judging is in :mod:`scanner.checkov.adapter`.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from checks.rules import RULES
from scanner.checkov.adapter import (
    REGION_PROVIDERS,
    Judge,
    Outcome,
    check_name,
    checkov_id,
    guideline,
    rule_types,
    terraform_resource,
    terraform_rules,
)

_CATEGORIES = {"RES003": CheckCategories.ENCRYPTION, "RES004": CheckCategories.ENCRYPTION}


def entity_file(entity_path: str) -> str:
    """``/main.tf:aws_s3_bucket:logs`` -> ``/main.tf`` (checkov's ``file:type:name``)."""
    return entity_path.rsplit(":", 2)[0]


def _result(check: Any, outcome: Outcome) -> CheckResult:
    check.details.extend(outcome.details)
    return CheckResult[outcome.result]


class ResidencyResourceCheck(BaseResourceCheck):
    """One residency rule over every resource type the data-store catalog knows."""

    def __init__(self, rule: Any, judge: Judge, types: list[str]) -> None:
        self.rule = rule
        self.judge = judge
        super().__init__(
            name=check_name(rule),
            id=checkov_id(rule),
            categories=[_CATEGORIES.get(rule.id, CheckCategories.GENERAL_SECURITY)],
            supported_resources=types,
            guideline=guideline(rule),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        resource = terraform_resource(conf, self.entity_type, entity_file(self.entity_path))
        return _result(self, self.judge.outcome(self.rule.id, [resource]))


class ResidencyProviderCheck(BaseProviderCheck):
    """RES001 at ``provider "aws"`` and ``provider "google"`` blocks: their region places every resource
    that sets none of its own, and checkov shows resource checks no provider region."""

    def __init__(self, rule: Any, judge: Judge) -> None:
        self.rule = rule
        self.judge = judge
        super().__init__(
            name=f"Provider region outside the allowed regions (residency {rule.id} {rule.name}, at the provider)",
            id=checkov_id(rule),
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_provider=sorted(REGION_PROVIDERS),
            guideline=guideline(rule),
        )

    def scan_provider_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        file, provider, _ = self.entity_path.rsplit(":", 2)  # ``/main.tf:aws:aws``
        return _result(self, self.judge.provider_outcome(provider, conf, file))


def register(judge: Judge) -> list[Any]:
    """Create (and so register with checkov) one resource check per rule and the provider check."""
    checks: list[Any] = [ResidencyResourceCheck(rule, judge, rule_types(rule)) for rule in terraform_rules()]

    checks.append(ResidencyProviderCheck(RULES["RES001"], judge))
    return checks
