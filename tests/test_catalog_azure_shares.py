"""Azure catalog batch 5 of issue 15, read off the real parsed fixture fixtures/terraform/catalog_azure/batch5.tf.

Why beyond the fixture harness's finding lines: the root DBFS key is an attachment, so only the workspace's
graded encryption shows it was joined; and a connected registry or a Data Share data set must give its
source a copy whose location is unresolved (the receiver or edge host is not in the code), never no copy.
"""

from __future__ import annotations

from functools import cache

from scanner.engine import ScanOptions, scan
from scanner.model import DataStoreFacts, Encryption, Unknown
from scanner.policy import load_policy
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

BATCH = FIXTURES / "terraform" / "catalog_azure"


@cache
def _facts() -> dict[str, DataStoreFacts]:
    report = scan(ScanOptions(paths=[BATCH], cwd=REPO, use_cache=False, keep_facts=True), load_policy(BUNDLED_POLICY))
    return {f.resource.address: f for f in report.data_stores}


def test_root_dbfs_key_grades_its_workspace_customer_managed() -> None:
    facts = _facts()
    assert facts["azurerm_databricks_workspace.dbfs_eu"].encryption is Encryption.CUSTOMER
    assert facts["azurerm_databricks_workspace.plain_eu"].encryption is Encryption.PROVIDER
    assert "azurerm_databricks_workspace_root_dbfs_customer_managed_key" not in {
        f.resource.type for f in facts.values()
    }


def test_connected_registry_and_shared_data_sets_copy_their_source_somewhere_unknown() -> None:
    facts = _facts()
    for source, kind in (
        ("azurerm_container_registry.synced", "replica"),
        ("azurerm_storage_account.shared", "share"),
        ("azurerm_storage_account.lake", "share"),
        ("azurerm_kusto_cluster.shared", "share"),
        ("azurerm_kusto_database.shared", "share"),
    ):
        copies = [c for c in facts[source].copies if c.kind == kind]
        assert len(copies) == 1 and isinstance(copies[0].location, Unknown), (source, facts[source].copies)
    for shared in ("azurerm_data_share.share", "azurerm_data_share_dataset_blob_storage.blob"):
        assert facts[shared].location is None, shared


def test_openai_deployments_process_by_sku_global_everywhere_datazone_within_the_zone() -> None:
    from scanner.model import ANY_REGION, Location

    facts = _facts()
    assert facts["azurerm_cognitive_deployment.standard_us"].copies == []
    [everywhere] = facts["azurerm_cognitive_deployment.global"].copies
    assert isinstance(everywhere.location, Location) and everywhere.location.code == ANY_REGION
    zone = {c.location.code for c in facts["azurerm_cognitive_deployment.datazone_eu"].copies
            if isinstance(c.location, Location)}
    assert "westeurope" in zone and "swedencentral" not in zone and not {"eastus", "uksouth"} & zone


def test_a_datazone_deployment_outside_every_zone_is_unresolved() -> None:
    from scanner.model import Ref
    from tests.test_catalog import res, run

    account = res("azurerm_cognitive_account", "uk", {"name": "uk", "location": "uksouth"})
    deployment = res(
        "azurerm_cognitive_deployment",
        "dz",
        {"cognitive_account_id": Ref("azurerm_cognitive_account.uk", "id"), "sku": [{"name": "DataZoneStandard"}]},
    )
    [copy] = run(account, deployment)["azurerm_cognitive_deployment.dz"].copies
    assert isinstance(copy.location, Unknown) and "uksouth is in none of the data zones" in copy.location.reason


def test_data_share_account_is_placed_by_its_location_with_microsoft_managed_metadata() -> None:
    facts = _facts()
    for address, code in (("azurerm_data_share_account.share", "westeurope"),
                          ("azurerm_data_share_account.share_us", "eastus")):
        account = facts[address]
        assert account.location is not None and getattr(account.location, "code", None) == code, account.location
        assert account.encryption is Encryption.PROVIDER and account.copies == []
