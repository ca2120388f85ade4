"""The residency rules as checkov Kubernetes checks: one check per rule, over every kind.

checkov hands a Kubernetes check the whole manifest. It goes through the native Kubernetes loader
(its operator translation included: Crossplane, ACK, Config Connector, ASO become the Terraform
types they declare), then the same catalog and rules as a scan; kinds that are no data store, key
or workload produce no result. Imported only inside checkov's process.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

from scanner.checkov.adapter import (
    Judge,
    LoadKubernetes,
    Outcome,
    check_name,
    checkov_id,
    guideline,
    kubernetes_resources,
    kubernetes_rules,
)
from scanner.model import Resource

_CACHE_SIZE = 256


def entity_file(entity_path: str) -> str:
    return entity_path.rsplit(":", 2)[0]


class _Translations:
    """Each manifest is translated once for all five checks (checkov runs them one after another)."""

    def __init__(self, judge: Judge, load_kubernetes: LoadKubernetes) -> None:
        self.judge = judge
        self.load_kubernetes = load_kubernetes
        self.cache: dict[tuple[str, int, str], list[Resource]] = {}

    def resources(self, conf: dict[str, Any], file: str) -> list[Resource]:
        key = (file, int(conf.get("__startline__") or 0), repr(conf.get("metadata"))[:512] + str(conf.get("kind")))
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            found = self.cache[key] = kubernetes_resources(conf, file, self.judge.policy, self.load_kubernetes)
        return found


class ResidencyKubernetesCheck(BaseK8Check):
    """One residency rule over every Kubernetes object."""

    def __init__(self, rule: Any, translations: _Translations) -> None:
        self.rule = rule
        self.translations = translations
        super().__init__(
            name=check_name(rule),
            id=checkov_id(rule),
            categories=[CheckCategories.KUBERNETES],
            supported_entities=["*"],
            guideline=guideline(rule),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not isinstance(conf, dict) or not conf.get("kind"):
            return CheckResult.UNKNOWN
        resources = self.translations.resources(conf, entity_file(self.entity_path))
        outcome: Outcome = self.translations.judge.outcome(self.rule.id, resources)
        self.details.extend(outcome.details)
        return CheckResult[outcome.result]


def register(judge: Judge, load_kubernetes: LoadKubernetes | None) -> list[Any]:
    """Create (and so register with checkov) one Kubernetes check per rule; none without the loader."""
    if load_kubernetes is None:
        return []
    translations = _Translations(judge, load_kubernetes)
    return [ResidencyKubernetesCheck(rule, translations) for rule in kubernetes_rules()]
