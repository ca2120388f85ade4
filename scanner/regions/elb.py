"""Elastic Load Balancing's per-Region log-delivery accounts, a fact both the loader and the rules read.

Why here and not in ``checks/``: the Terraform loader evaluates ``data "aws_elb_service_account"`` from it
(the account of a Region, offline, as the provider does) and RES006 reads it the other way round (an account
in a bucket policy is AWS's service in that Region). Loaders must not import policy, so the table is region
data in ``data/elb_log_accounts.json``, read once; stdlib only, like the rest of :mod:`scanner.regions`.
A Region missing from the table (opened since August 2022, or unknown) has no account: callers fail closed.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

__all__ = ["elb_log_account", "elb_log_regions"]


@cache
def _accounts() -> dict[str, str]:
    text = resources.files("scanner.regions").joinpath("data/elb_log_accounts.json").read_text(encoding="utf-8")
    accounts: dict[str, str] = json.loads(text)["accounts"]
    return accounts


def elb_log_account(region: str) -> str | None:
    """The log-delivery account of ``region``, or None when the Region has none (or is not a Region)."""
    return _accounts().get(region)


@cache
def elb_log_regions() -> dict[str, str]:
    """Account id -> Region, for reading a bucket policy's principal (each account serves one Region)."""
    return {account: region for region, account in _accounts().items()}
