"""AWS IAM policy documents (JSON text or decoded values) as normalised statements.

Resource policies reach the catalog as JSON strings (heredocs, rendered plan ``policy``
attributes) or as evaluated ``jsonencode`` structures whose leaves may be ``Unknown``. The
access rule needs the same thing from every form: per statement, its effect, who it names
(``Principal`` / ``NotPrincipal`` by kind), its actions and its conditions. Normalised here once
so the rule never sees the document's spelling variants (a string or a list, ``"*"`` or
``{"AWS": "*"}``, ``Statement`` as one object or a list).

Nothing here decides whether a grant is acceptable: that is RES006's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scanner.regions.elb import elb_log_regions

__all__ = ["AwsPrincipal", "Statement", "aws_principal", "statements"]


@dataclass(frozen=True)
class Statement:
    """One statement; values that could not be read statically are kept as they are (``Unknown``)."""

    effect: str
    principals: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    not_principals: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    actions: tuple[Any, ...] = ()
    not_actions: tuple[Any, ...] = ()
    conditions: tuple[tuple[str, str, tuple[Any, ...]], ...] = ()
    sid: str | None = None

    @property
    def public(self) -> bool:
        """``"Principal": "*"`` or ``{"AWS": "*"}``: anyone, unless a condition narrows it."""
        return "*" in self.principals.get("AWS", ())


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _principals(value: Any) -> dict[str, tuple[Any, ...]]:
    """``"*"`` means ``{"AWS": "*"}`` (IAM treats them alike); kinds are AWS, Service, Federated, CanonicalUser."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"AWS": (value,)}
    if isinstance(value, Mapping):
        return {str(k): _as_tuple(v) for k, v in value.items()}
    return {"?": (value,)}  # an Unknown principal block: kept, so the rule can say it cannot tell


def _conditions(value: Any) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
    if not isinstance(value, Mapping):
        return () if value is None else (("?", "?", (value,)),)
    out: list[tuple[str, str, tuple[Any, ...]]] = []
    for op, body in value.items():
        if isinstance(body, Mapping):
            out.extend((str(op), str(key), _as_tuple(v)) for key, v in body.items())
        else:
            out.append((str(op), "?", (body,)))
    return tuple(out)


def statements(document: Any) -> list[Statement] | None:
    """The statements of a policy document given as JSON text or a decoded mapping.

    Returns None when the text is not JSON or the value is not a policy document: the caller
    reports that it cannot read the policy (never a pass).
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, Mapping) or "Statement" not in document:
        return None
    raw = document["Statement"]
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    out: list[Statement] = []
    for st in items:
        if not isinstance(st, Mapping):
            return None
        effect = st.get("Effect", "Allow")
        out.append(Statement(
            effect=effect if isinstance(effect, str) else "?",
            principals=_principals(st.get("Principal")),
            not_principals=_principals(st.get("NotPrincipal")),
            actions=_as_tuple(st.get("Action")),
            not_actions=_as_tuple(st.get("NotAction")),
            conditions=_conditions(st.get("Condition")),
            sid=st.get("Sid") if isinstance(st.get("Sid"), str) else None,
        ))
    return out


@dataclass(frozen=True)
class AwsPrincipal:
    """What one ``Principal`` entry names: ``kind`` is ``public``, ``account``, ``service`` or ``other``.

    ``account`` is the 12-digit account for account, role, user and STS session ARNs; ``region`` is
    set for regional service principals (``logs.eu-west-1.amazonaws.com``), which are checked as regions.
    """

    kind: str
    text: str
    account: str | None = None
    region: str | None = None


_ACCOUNT = re.compile(r"\d{12}")
_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):.+")
_REGIONAL_SERVICE = re.compile(r"[a-z0-9-]+\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")


# Elastic Load Balancing's log-delivery accounts, one per Region that opened before August 2022: a bucket policy
# names the Region's account (``arn:aws:iam::156460612806:root``) to let load balancers of that Region write
# access logs, so the principal is AWS's service in that Region, not a customer account. Regions opened later use
# the service principal logdelivery.elasticloadbalancing.amazonaws.com. The table (AWS docs, as the Terraform AWS
# provider carries it) is region data in scanner/regions/data/elb_log_accounts.json, which the Terraform loader
# also reads to evaluate ``data "aws_elb_service_account"``.
ELB_LOG_ACCOUNTS = elb_log_regions()


def aws_principal(kind: str, value: str) -> AwsPrincipal:
    """Classify one principal string of the given kind (``AWS``, ``Service``, ``Federated``, ...).

    An Elastic Load Balancing log-delivery account (:data:`ELB_LOG_ACCOUNTS`) is the ``service`` of its Region.
    """
    if value == "*":
        return AwsPrincipal("public", value)
    if kind == "Service":
        m = _REGIONAL_SERVICE.fullmatch(value)
        return AwsPrincipal("service", value, region=m.group(1) if m else None)
    if kind == "AWS":
        m = _ARN_ACCOUNT.fullmatch(value)
        account = value if _ACCOUNT.fullmatch(value) else m.group(1) if m else None
        if account in ELB_LOG_ACCOUNTS and (account == value or value.endswith(":root")):
            return AwsPrincipal("service", value, account=account, region=ELB_LOG_ACCOUNTS[account])
        if account:
            return AwsPrincipal("account", value, account=account)
    return AwsPrincipal("other", value)
