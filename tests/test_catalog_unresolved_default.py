"""``default: unresolved`` (issue 15): a type without a documented encryption default is unresolved, never a pass.

The fixture fixtures/terraform/catalog_aws/search_lake_templates.tf shows the findings; these pin the
schema: the reason is required (it is the finding's text) and the spec takes nothing that would grade it.
"""

from __future__ import annotations

import pytest

from checks.catalog import CatalogError
from tests.test_catalog_schema import BASE, _load

OLD = "{flag: storage_encrypted, flag_default: false, keys: [kms_key_id]}"


def test_unresolved_default_with_a_reason_loads() -> None:
    _load(BASE.replace(OLD, '{default: unresolved, reason: "no documented default"}'))


@pytest.mark.parametrize(
    ("new", "error"),
    [
        ("{default: unresolved}", "default: unresolved needs reason:"),
        ('{default: unresolved, reason: "x", keys: [kms_key_id]}', "takes no flag, keys or handler"),
        ('{default: none, reason: "x"}', "reason: goes with default: unresolved only"),
    ],
)
def test_unresolved_default_is_checked(new: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        _load(BASE.replace(OLD, new))
