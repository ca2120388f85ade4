"""Azure Site Recovery replications as copies of their source VM (issue 15).

Built as the loader hands resources over (see tests/test_catalog.py); fixtures/terraform/catalog_azure/
site_recovery.tf shows the same end to end (RES002 on a West Europe VM replicated to East US).
"""

from __future__ import annotations

from scanner.model import Location, Ref, Unknown
from tests.test_catalog import res, run

VM = "azurerm_linux_virtual_machine"
REPLICATION = "azurerm_site_recovery_replicated_vm"


def _replication(name: str, source: object, fabric: object) -> object:
    return res(REPLICATION, name, {"source_vm_id": source, "target_recovery_fabric_id": fabric}, line=40)


def test_the_replica_is_a_copy_of_the_source_vm_in_the_target_fabrics_region() -> None:
    facts = run(
        res(VM, "app", {"name": "app", "location": "westeurope"}),
        res("azurerm_site_recovery_fabric", "target", {"name": "target", "location": "East US"}),
        _replication("r", Ref(f"{VM}.app", "id"), Ref("azurerm_site_recovery_fabric.target", "id")),
    )
    assert f"{REPLICATION}.r" not in facts  # folded into the VM, like an S3 replication configuration
    (copy,) = facts[f"{VM}.app"].copies
    assert copy.kind == "replica"
    assert isinstance(copy.location, Location) and copy.location.code == "eastus"
    assert "target fabric azurerm_site_recovery_fabric.target" in copy.location.source
    assert copy.line == 40


def test_a_fabric_outside_the_scan_is_an_unknown_copy_location() -> None:
    facts = run(
        res(VM, "app", {"name": "app", "location": "westeurope"}),
        _replication("r", Ref(f"{VM}.app", "id"), "/subscriptions/s/resourceGroups/g/providers/x/replicationFabrics/f"),
    )
    (copy,) = facts[f"{VM}.app"].copies
    assert isinstance(copy.location, Unknown) and "not in the scanned configuration" in copy.location.reason


def test_a_fabric_without_a_known_location_is_unknown() -> None:
    facts = run(
        res(VM, "app", {"name": "app", "location": "westeurope"}),
        res("azurerm_site_recovery_fabric", "target", {"name": "target", "location": Unknown("var.dr has no value")}),
        _replication("r", Ref(f"{VM}.app", "id"), Ref("azurerm_site_recovery_fabric.target", "id")),
    )
    (copy,) = facts[f"{VM}.app"].copies
    assert isinstance(copy.location, Unknown) and "var.dr has no value" in copy.location.reason


def test_a_source_vm_outside_the_scan_keeps_the_copy_on_the_replication() -> None:
    facts = run(
        res("azurerm_site_recovery_fabric", "target", {"name": "target", "location": "eastus"}),
        _replication("r", "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm",
                     Ref("azurerm_site_recovery_fabric.target", "id")),
    )
    orphan = facts[f"{REPLICATION}.r"]
    (copy,) = orphan.copies
    assert isinstance(copy.location, Location) and copy.location.code == "eastus"
    assert any("not in the scanned configuration" in n for n in orphan.notes)
