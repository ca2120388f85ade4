"""``azapi_resource`` -> the azurerm resource the data-store catalog knows.

The azapi provider declares any Azure Resource Manager resource by its ARM type
(``type = "Microsoft.Storage/storageAccounts@2023-05-01"``), ``name``, ``parent_id``, ``location``
and a ``body`` that is an HCL object (azapi v2) or a ``jsonencode({...})`` string (azapi v1). The
catalog speaks azurerm, so this module translates, as the Kubernetes loader does for ASO objects:
``ARM_TYPES`` (data, ``data/azapi.yaml``) maps the ARM type (case-insensitive, no api-version) to
the azurerm type, and
one small function per type copies the body properties the catalog reads into azurerm argument
names (``sku.name = "Standard_RAGRS"`` -> ``account_replication_type = "RAGRS"``). The Resource
keeps its address, file and line; ``extra["terraform_type"] = "azapi_resource"`` and
``extra["arm_type"]`` remember what was written, and findings show ``azapi_resource``.

Location: the ``location`` argument, else ``body.location``; a resource without one inherits the
location of the resource its ``parent_id`` designates when that is in the same root module (a Ref
to an azapi or azurerm resource); children whose azurerm type is located through a parent
argument (``server_id``, ``account_name``...) get ``parent_id`` as that argument instead.

ARM types not in the table (decision, conservative):

* ``NON_DATA_PREFIXES`` (networking, IAM, resource groups, managed identities, monitoring rules,
  policy, DNS...) hold no user data: they keep the type ``azapi_resource``, which the catalog
  ignores, like ``azurerm_virtual_network``.
* A resource without a location of its own (and no parent location) is a child/extension resource
  (``.../blobServices/containers``, ``.../encryptionProtector``): its data lives where its parent
  is, and the parent is checked. It keeps ``azapi_resource`` too.
* A resource with ``location = "global"`` is a global control-plane object (Front Door, action
  groups): no region to check, kept as ``azapi_resource``.
* Anything else with a location is **treated as a data store** (``azurerm_generic_arm_resource``, a pseudo-type, in the
  catalog): RES001 checks its location, so a resource in a disallowed region is never silently
  skipped. Its copies are not known (no replication is read). Encryption is taken as Azure's
  default, provider-managed (Azure encrypts data at rest in its services with platform keys), raised
  to customer-managed when the body carries a usual ARM CMK shape (``properties.encryption`` with
  ``keySource = Microsoft.KeyVault`` or ``keyVaultProperties``): a policy minimum of
  customer-managed flags it unless a key is visible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scanner.loaders.operator_tables import load_azapi_tables
from scanner.model import Ref, Resource, Unknown

TERRAFORM_TYPE = "azapi_resource"
UNMAPPED_TYPE = "azurerm_generic_arm_resource"

# The tables are data: scanner/loaders/data/azapi.yaml (format in its header), loaded strictly.
_TABLES = load_azapi_tables()
# ARM type (lower-case, no api-version) -> azurerm type in checks/datastores.yaml.
ARM_TYPES: dict[str, str] = _TABLES.arm_types
# Registry replications are folded into their registry as ``georeplications`` blocks.
REGISTRY_REPLICATION = _TABLES.registry_replication
# azurerm child types located through a parent argument: parent_id becomes that argument.
PARENT_ARGS: dict[str, str] = _TABLES.parent_args
# ARM namespaces/types that hold no user data: left alone (not data stores), like azurerm_virtual_network.
NON_DATA_PREFIXES: tuple[str, ...] = _TABLES.non_data_prefixes


def arm_type(value: Any) -> str | None:
    """``Microsoft.Storage/storageAccounts@2023-05-01`` -> ``microsoft.storage/storageaccounts``."""
    if not isinstance(value, str) or "/" not in value:
        return None
    return value.split("@", 1)[0].strip().lower()


def _body(value: Any) -> dict[str, Any] | Unknown:
    """The body as a dict: v2 object as evaluated, v1 ``jsonencode`` string parsed back."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return Unknown("body is not valid JSON")
        return parsed if isinstance(parsed, dict) else Unknown("body is not a JSON object")
    if isinstance(value, Unknown):
        return Unknown(f"body: {value.reason}")
    return Unknown(f"body is {value}, known only after apply")


def _get(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...`` with ARM's case-insensitive keys; None when absent."""
    for part in path:
        if isinstance(obj, Unknown):
            return obj
        if not isinstance(obj, dict):
            return None
        if part in obj:
            obj = obj[part]
            continue
        lowered = part.lower()
        obj = next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == lowered), None)
    return obj


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def _key_uri(vault_uri: Any, key_name: Any, fallback: str) -> Any:
    """A Key Vault key id the catalog can locate (``https://<vault>.vault.azure.net/keys/<name>``)."""
    if isinstance(vault_uri, str) and vault_uri:
        name = key_name if isinstance(key_name, str) else "key"
        return f"{vault_uri.rstrip('/')}/keys/{name}"
    if isinstance(vault_uri, (Ref, Unknown)):
        return vault_uri
    return Ref(fallback)


def _generic_cmk(props: Any, address: str) -> Any:
    """A customer-managed key in the usual ARM ``properties.encryption`` shapes, else None."""
    enc = _dict(_get(props, "encryption"))
    kvp = _get(enc, "keyVaultProperties")
    if isinstance(kvp, list):  # Event Hubs / Service Bus: a list of keys
        kvp = kvp[0] if kvp else None
    kvp = _dict(kvp)
    for direct in ("keyIdentifier", "keyUri", "keyVaultKeyUri"):
        value = _get(kvp, direct)
        if value is not None:
            return value
    if kvp or _lower(_get(enc, "keySource")) == "microsoft.keyvault":
        vault = _get(kvp, "keyVaultUri") if _get(kvp, "keyVaultUri") is not None else _get(kvp, "keyvaulturi")
        return _key_uri(vault, _get(kvp, "keyName"), f"{address} (customer-managed key)")
    return None


# ---------------------------------------------------------------------------------- per type


def _storage(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    sku = _get(body, "sku", "name")
    if isinstance(sku, str) and sku:
        tier, _, replication = sku.partition("_")
        attrs["account_tier"] = tier
        attrs["account_replication_type"] = replication.upper()
    elif sku is None:
        attrs["account_replication_type"] = Unknown(f"body.sku.name is not set on {address}")
    else:
        attrs["account_replication_type"] = sku if isinstance(sku, Unknown) else Unknown(
            f"body.sku.name of {address} is {sku}, known only after apply")
    enc = _dict(_get(props, "encryption"))
    if _lower(_get(enc, "keySource")) == "microsoft.keyvault":
        kvp = _dict(_get(enc, "keyvaultproperties"))
        attrs["customer_managed_key"] = [{"key_vault_key_id": _key_uri(
            _get(kvp, "keyvaulturi"), _get(kvp, "keyname"), f"{address} (customer-managed key)")}]
    infra = _get(enc, "requireInfrastructureEncryption")
    if infra is not None:
        attrs["infrastructure_encryption_enabled"] = infra


def _cosmos(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    locations = _get(props, "locations")
    if isinstance(locations, list):
        attrs["geo_location"] = [
            {"location": _get(loc, "locationName"), "failover_priority": _get(loc, "failoverPriority")}
            for loc in locations if isinstance(loc, dict)
        ]
    elif isinstance(locations, Unknown):
        attrs["geo_location"] = [{"location": Unknown(f"properties.locations: {locations.reason}")}]
    key = _get(props, "keyVaultKeyUri")
    if key is not None:
        attrs["key_vault_key_id"] = key
    policy = _get(props, "backupPolicy")
    if isinstance(policy, dict):
        kind = _get(policy, "type")
        if _lower(kind) == "continuous" or isinstance(_get(policy, "continuous"), dict):
            attrs["backup"] = [{"type": "Continuous"}]
        else:
            periodic = _get(policy, "periodicModeProperties")
            if periodic is None:
                periodic = _get(policy, "periodic", "periodicModeProperties")
            block: dict[str, Any] = {"type": "Periodic"}
            redundancy = _get(periodic, "backupStorageRedundancy")
            if redundancy is not None:
                block["storage_redundancy"] = redundancy
            attrs["backup"] = [block]


def _mssql_server(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    key = _get(props, "keyId")
    if key is not None:
        attrs["transparent_data_encryption_key_vault_key_id"] = key


def _mssql_database(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    redundancy = _get(props, "requestedBackupStorageRedundancy")
    if redundancy is not None:  # unset: the catalog's default (Geo) applies
        attrs["storage_account_type"] = redundancy
    if _get(props, "createMode") is not None:
        attrs["create_mode"] = _get(props, "createMode")
    if _get(props, "sourceDatabaseId") is not None:
        attrs["creation_source_database_id"] = _get(props, "sourceDatabaseId")


def _managed_instance(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    redundancy = _get(props, "requestedBackupStorageRedundancy")
    if redundancy is not None:
        attrs["storage_account_type"] = {"geo": "GRS", "local": "LRS", "zone": "ZRS", "geozone": "GZRS"}.get(
            _lower(redundancy), redundancy)


def _flexible(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    geo = _get(props, "backup", "geoRedundantBackup")
    if isinstance(geo, str):
        attrs["geo_redundant_backup_enabled"] = geo.lower() == "enabled"
    elif geo is not None:
        attrs["geo_redundant_backup_enabled"] = geo
    data = _dict(_get(props, "dataEncryption"))
    if _lower(_get(data, "type")) == "azurekeyvault":
        cmk: dict[str, Any] = {"key_vault_key_id": _get(data, "primaryKeyURI")
                               or Ref(f"{address} (customer-managed key)")}
        if _get(data, "geoBackupKeyURI") is not None:
            cmk["geo_backup_key_vault_key_id"] = _get(data, "geoBackupKeyURI")
        attrs["customer_managed_key"] = [cmk]
    source = _get(props, "sourceServerResourceId")
    if source is not None:
        attrs["source_server_id"] = source
    if _get(props, "createMode") is not None:
        attrs["create_mode"] = _get(props, "createMode")


def _recovery_vault(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    redundancy = _get(props, "redundancySettings", "standardTierStorageRedundancy")
    if redundancy is not None:  # unset: GeoRedundant, the catalog's default
        attrs["storage_mode_type"] = redundancy
    key = _get(props, "encryption", "keyVaultProperties", "keyUri")
    if key is not None:
        attrs["encryption"] = [{"key_id": key}]


def _backup_vault(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    settings = _get(props, "storageSettings")
    if isinstance(settings, list) and settings:
        attrs["redundancy"] = _get(settings[0], "type")
    elif isinstance(settings, Unknown):
        attrs["redundancy"] = settings


def _registry(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    key = _get(props, "encryption", "keyVaultProperties", "keyIdentifier")
    if key is not None:
        attrs["encryption"] = [{"key_vault_key_id": key}]


def _disk(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    des = _get(props, "encryption", "diskEncryptionSetId")
    if des is not None:
        attrs["disk_encryption_set_id"] = des
    secure = _get(props, "securityProfile", "secureVMDiskEncryptionSetId")
    if secure is not None:
        attrs["secure_vm_disk_encryption_set_id"] = secure


def _cmk_block(attrs: dict[str, Any], body: dict[str, Any], props: dict[str, Any], address: str) -> None:
    key = _generic_cmk(props, address)
    if key is not None:
        attrs["customer_managed_key"] = [{"key_vault_key_id": key}]


TRANSLATORS: dict[str, Callable[[dict[str, Any], dict[str, Any], dict[str, Any], str], None]] = {
    "azurerm_storage_account": _storage,
    "azurerm_cosmosdb_account": _cosmos,
    "azurerm_mssql_server": _mssql_server,
    "azurerm_mssql_database": _mssql_database,
    "azurerm_mssql_managed_instance": _managed_instance,
    "azurerm_postgresql_flexible_server": _flexible,
    "azurerm_mysql_flexible_server": _flexible,
    "azurerm_recovery_services_vault": _recovery_vault,
    "azurerm_data_protection_backup_vault": _backup_vault,
    "azurerm_container_registry": _registry,
    "azurerm_managed_disk": _disk,
    "azurerm_snapshot": _disk,
    "azurerm_eventhub_namespace": _cmk_block,
    "azurerm_servicebus_namespace": _cmk_block,
    "azurerm_synapse_workspace": _cmk_block,
    UNMAPPED_TYPE: _cmk_block,
}


# ---------------------------------------------------------------------------------- translation


class _Translator:
    """Translates the azapi resources of one root module, reading their parents among its resources."""

    def __init__(self, resources: list[Resource]) -> None:
        self.by_address = {r.address: r for r in resources}
        self.locations: dict[str, Any] = {}
        self.busy: set[str] = set()

    def parent(self, r: Resource) -> Resource | None:
        value = r.attributes.get("parent_id")
        return self.by_address.get(value.address) if isinstance(value, Ref) else None

    def own_location(self, r: Resource) -> Any:
        """The location an azapi or azurerm resource states, inheriting through parent_id; None if none."""
        if r.address in self.locations:
            return self.locations[r.address]
        if r.address in self.busy:
            return None
        self.busy.add(r.address)
        try:
            loc = r.attributes.get("location")
            if loc is None and _is_azapi(r):
                body = _body(r.attributes.get("body"))
                loc = _get(body, "location") if isinstance(body, dict) else None
                if loc is None:
                    parent = self.parent(r)
                    loc = self.own_location(parent) if parent is not None else None
        finally:
            self.busy.discard(r.address)
        self.locations[r.address] = loc
        return loc

    def translate(self, r: Resource) -> None:
        arm = arm_type(r.attributes.get("type"))
        r.extra["terraform_type"] = TERRAFORM_TYPE
        if arm is None:
            raw = r.attributes.get("type")
            r.extra["arm_type"] = raw if isinstance(raw, str) else None
            if raw is not None:
                # the type is computed: the resource could be anything, so it is placed like a data store
                self._unmapped(r, "type is not known statically")
            return
        r.extra["arm_type"] = arm
        if arm == REGISTRY_REPLICATION:
            self._replication(r)
            return
        tf_type = ARM_TYPES.get(arm)
        if tf_type is None:
            location = self.own_location(r)
            if arm.startswith(NON_DATA_PREFIXES) or location is None or _lower(location) == "global":
                return  # not a data store (see the module docstring): the catalog ignores azapi_resource
            self._unmapped(r, f"ARM type {arm} is not in the azapi table")
            return
        self._apply(r, tf_type)

    def _unmapped(self, r: Resource, why: str) -> None:
        self._apply(r, UNMAPPED_TYPE)
        r.extra["azapi_note"] = f"{why}: treated as a data store at its location"

    def _apply(self, r: Resource, tf_type: str) -> None:
        raw = r.attributes
        body = _body(raw.get("body"))
        attrs: dict[str, Any] = {"name": raw.get("name")}
        location = self.own_location(r)
        if isinstance(body, Unknown) and location is None:
            location = Unknown(f"location of {r.address} is not set and {body.reason}")
        if location is not None:
            attrs["location"] = location
        tags = raw.get("tags") if raw.get("tags") is not None else (
            _get(body, "tags") if isinstance(body, dict) else None)
        if isinstance(tags, dict):
            attrs["tags"] = tags
        parent_arg = PARENT_ARGS.get(tf_type)
        if parent_arg and raw.get("parent_id") is not None:
            attrs[parent_arg] = raw["parent_id"]
        if isinstance(body, dict):
            props = _dict(_get(body, "properties"))
            fn = TRANSLATORS.get(tf_type)
            if fn is not None:
                fn(attrs, body, props, r.address)
        else:
            _unknown_body(attrs, tf_type, body)
        attrs["parent_id"] = raw.get("parent_id")
        r.type = tf_type
        r.attributes = attrs

    def _replication(self, r: Resource) -> None:
        """A registry replication: a georeplications block on its registry (or a data store of its own)."""
        parent = self.parent(r)
        location = self.own_location(r) if r.attributes.get("location") is not None else None
        if location is None:
            body = _body(r.attributes.get("body"))
            location = _get(body, "location") if isinstance(body, dict) else body
        if parent is not None and parent.type == "azurerm_container_registry":
            parent.attributes.setdefault("georeplications", []).append(
                {"location": location if location is not None
                 else Unknown(f"location of {r.address} is not set")})
            r.extra["azapi_note"] = f"folded into {parent.address} as a georeplications block"
            return
        self._unmapped(r, f"registry replication whose registry is not in the configuration ({r.address})")


def _unknown_body(attrs: dict[str, Any], tf_type: str, body: Unknown) -> None:
    """The settings a copy handler would read are unknown when the whole body is."""
    if tf_type == "azurerm_storage_account":
        attrs["account_replication_type"] = body
    elif tf_type in ("azurerm_mssql_database", "azurerm_mssql_managed_instance"):
        attrs["storage_account_type"] = body
    elif tf_type in ("azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server"):
        attrs["geo_redundant_backup_enabled"] = body
    elif tf_type == "azurerm_recovery_services_vault":
        attrs["storage_mode_type"] = body
    elif tf_type == "azurerm_data_protection_backup_vault":
        attrs["redundancy"] = body
    elif tf_type == "azurerm_cosmosdb_account":
        attrs["geo_location"] = [{"location": body}]


def _is_azapi(r: Resource) -> bool:
    return r.type == TERRAFORM_TYPE or r.extra.get("terraform_type") == TERRAFORM_TYPE


def translate_azapi(resources: list[Resource]) -> None:
    """Translate, in place, every ``azapi_resource`` among the resources of one root module.

    Parents are translated first where it matters (a registry before its replications): the table
    types are applied in one pass, replications in a second one.
    """
    azapi = [r for r in resources if r.type == TERRAFORM_TYPE and r.source in ("terraform", "plan")]
    if not azapi:
        return
    tr = _Translator(resources)
    for r in azapi:
        tr.own_location(r)  # memoise every location before any attributes are rewritten
    replications = [r for r in azapi if arm_type(r.attributes.get("type")) == REGISTRY_REPLICATION]
    later = {id(r) for r in replications}
    for r in azapi:
        if id(r) not in later:
            tr.translate(r)
    for r in replications:
        tr.translate(r)


__all__ = ["ARM_TYPES", "NON_DATA_PREFIXES", "TERRAFORM_TYPE", "UNMAPPED_TYPE", "arm_type", "translate_azapi"]
