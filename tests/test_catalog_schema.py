"""datastores.yaml is validated when loaded: each kind of mistake fails with FILE:LINE and the entry.

Also pins what moved from code into the file (the GCP product prefixes, the Terraform type prefixes,
the ``reverse_copy`` parameters that were hard-coded in four wrapper handlers) and a meta-test that
keeps the per-handler parameter lists of ``checks/catalog/schema.py`` equal to what the handlers read.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Any

import pytest

from checks.catalog import (
    ATTACH_HANDLERS,
    COPY_HANDLERS,
    CatalogError,
    catalog_text,
    check_catalog,
    classify,
    load_catalog,
    parse_catalog,
)
from checks.catalog.schema import ATTACH, COPY_PARAMS
from checks.locate import product_for
from scanner.model import ProviderContext, Ref, Resource
from scanner.regions import catalog as region_catalog

BASE = textwrap.dedent(
    """\
    clouds:
      aws: {prefixes: [aws_]}
      gcp:
        prefixes: [google_]
        products: {google_storage_: storage}
      azure: {prefixes: [azurerm_]}
    ignored:
      aws_vpc: network
    types:
      aws_db_instance:
        cloud: aws
        role: data-store
        location: {from: region-arg+provider}
        encryption: {flag: storage_encrypted, flag_default: false, keys: [kms_key_id]}
        copies: [{handler: reverse_copy, via: replicate_source_db, targets: {aws_db_instance: identifier}}]
      aws_kms_key:
        cloud: aws
        role: key
        location: {from: region-arg+provider}
        encryption: {not-applicable: "a key protects data; it is not data itself"}
      aws_s3_bucket:
        cloud: aws
        role: data-store
        location: {from: region-arg+provider}
        encryption: {handler: s3_bucket, default: provider-managed}
      aws_s3_bucket_server_side_encryption_configuration:
        cloud: aws
        role: attachment
        location: {from: parent, via: [bucket], parents: {aws_s3_bucket: bucket}}
        encryption: {not-applicable: configures its bucket}
        attach: {via: [bucket], targets: {aws_s3_bucket: bucket}, handler: s3_sse_configuration}
    """
)


def _load(text: str) -> None:
    check_catalog(parse_catalog(text), text)


def test_the_base_and_the_shipped_catalog_are_valid() -> None:
    _load(BASE)
    text = catalog_text()
    _load(text)
    assert parse_catalog(text) == load_catalog()


# (what is changed in BASE, the error expected: FILE:LINE: entry: message)
CASES = [
    pytest.param(
        "    cloud: aws\n    role: data-store\n    location: {from: region-arg+provider}\n    encryption: {flag:",
        "    colud: aws\n    cloud: aws\n    role: data-store\n    location: {from: region-arg+provider}\n"
        "    encryption: {flag:",
        r"datastores\.yaml:11: types\.aws_db_instance\.colud: unknown key 'colud'",
        id="unknown-entry-key",
    ),
    pytest.param(
        "{handler: reverse_copy, via: replicate_source_db,",
        "{handler: reverse_copy, vai: replicate_source_db,",
        r":15: types\.aws_db_instance\.copies\[0\]\.vai: unknown key 'vai'.*known: any_store, at, at_targets, handler",
        id="unknown-handler-parameter",
    ),
    pytest.param(
        '{not-applicable: "a key protects data; it is not data itself"}',
        "{not-applicable: a key holds keys, not data}",
        r":20: types\.aws_kms_key\.encryption\.not data: unknown key 'not data' \(a comma in a \{flow: "
        r"mapping\} value splits it: quote the value\)",
        id="comma-in-a-flow-mapping",
    ),
    pytest.param("    role: key\n", "", r":16: types\.aws_kms_key: missing required key 'role'", id="missing-role"),
    pytest.param(
        "reverse_copy, via: replicate_source_db, targets",
        "reverse_copy, targets",
        r":15: types\.aws_db_instance\.copies\[0\]: missing required key 'via'",
        id="missing-handler-parameter",
    ),
    pytest.param(
        "{from: parent, via: [bucket], parents: {aws_s3_bucket: bucket}}",
        "{from: parent, via: [bucket]}",
        r":29: types\.aws_s3_bucket_server_side_encryption_configuration\.location: missing required key "
        r"'parents'",
        id="missing-location-key",
    ),
    pytest.param(
        "keys: [kms_key_id]",
        "keys: kms_key_id",
        r":14: types\.aws_db_instance\.encryption\.keys: must be a list of strings, not 'kms_key_id'",
        id="string-for-a-list",
    ),
    pytest.param(
        "flag_default: false",
        "flag_default: 'no'",
        r":14: types\.aws_db_instance\.encryption\.flag_default: must be true or false",
        id="string-for-a-bool",
    ),
    pytest.param(
        "  aws_vpc: network",
        "  aws_vpc: {why: network}",
        r":8: ignored\.aws_vpc: must give the reason",
        id="ignored-reason-not-a-string",
    ),
    pytest.param(
        "    cloud: aws\n    role: key",
        "    cloud: awz\n    role: key",
        r":17: types\.aws_kms_key\.cloud: 'awz' is not one of aws, gcp, azure",
        id="unknown-cloud",
    ),
    pytest.param(
        "    role: key", "    role: keys", r":18: types\.aws_kms_key\.role: 'keys' is not one of", id="unknown-role"
    ),
    pytest.param(
        "default: provider-managed",
        "default: provider",
        r":25: types\.aws_s3_bucket\.encryption\.default: 'provider' is not one of none, provider-managed",
        id="unknown-encryption-level",
    ),
    pytest.param(
        "{from: region-arg+provider}\n    encryption: {not-applicable",
        "{from: provider}\n    encryption: {not-applicable",
        r":19: types\.aws_kms_key\.location: needs from: one of region-arg\+provider, arg",
        id="unknown-location-source",
    ),
    pytest.param(
        "  aws_kms_key:\n",
        "  google_kms_key:\n",
        r":16: types\.google_kms_key: a aws type must start with aws_",
        id="type-name-not-of-its-cloud",
    ),
    pytest.param(
        "targets: {aws_db_instance: identifier}",
        "targets: {aws_rds_instance: identifier}",
        r":15: types\.aws_db_instance\.copies\[0\]\.targets\.aws_rds_instance: aws_rds_instance is not a type",
        id="target-type-not-catalogued",
    ),
    pytest.param(
        "  aws_vpc: network",
        "  aws_kms_key: a key",
        r":8: ignored\.aws_kms_key: is also catalogued",
        id="ignored-and-catalogued",
    ),
    pytest.param(
        '{not-applicable: "a key protects data; it is not data itself"}',
        "{default: none}",
        r":20: types\.aws_kms_key\.encryption: a key is not data",
        id="key-with-encryption",
    ),
    pytest.param(
        "    attach: {via: [bucket], targets: {aws_s3_bucket: bucket}, handler: s3_sse_configuration}\n",
        "",
        r":26: types\.aws_s3_bucket_server_side_encryption_configuration: an attachment needs attach",
        id="attachment-without-attach",
    ),
    pytest.param(
        "types:\n", "extras: {}\ntypes:\n", r"datastores\.yaml:9: extras: unknown key 'extras'", id="unknown-section"
    ),
    pytest.param(
        "clouds:\n  aws: {prefixes: [aws_]}\n",
        "clouds:\n  aws: {prefix: [aws_]}\n",
        r":2: clouds\.aws\.prefix: unknown key 'prefix'",
        id="unknown-cloud-key",
    ),
    pytest.param(
        "  aws_s3_bucket:\n",
        "  aws_db_instance:\n",
        r"datastores\.yaml:21: duplicate key 'aws_db_instance'",
        id="duplicate-type",
    ),
    pytest.param(
        "{handler: s3_bucket,",
        "{handler: s3_buckett,",
        r":25: types\.aws_s3_bucket\.encryption\.handler: unknown encryption handler 's3_buckett'; known: ",
        id="unknown-encryption-handler",
    ),
    pytest.param(
        "{handler: reverse_copy,",
        "{handler: reverse_copi,",
        r":15: types\.aws_db_instance\.copies\[0\]\.handler: unknown copies handler 'reverse_copi'",
        id="unknown-copy-handler",
    ),
    pytest.param(
        "handler: s3_sse_configuration}",
        "handler: s3_sse}",
        r":31: types\.aws_s3_bucket_server_side_encryption_configuration\.attach\.handler: unknown attach "
        r"handler 's3_sse'",
        id="unknown-attach-handler",
    ),
    pytest.param(
        "{flag: storage_encrypted, flag_default: false, keys: [kms_key_id]}",
        "{cases: [{when: {sett: engine}, default: none}], flag: storage_encrypted}",
        r":14: types\.aws_db_instance\.encryption\.cases\[0\]\.when\.sett: unknown key 'sett'",
        id="case-unknown-condition",
    ),
    pytest.param(
        "{flag: storage_encrypted, flag_default: false, keys: [kms_key_id]}",
        "{cases: [{when: {set: engine}}], flag: storage_encrypted}",
        r"types\.aws_db_instance\.encryption\.cases\[0\]: needs one of default, flag, handler, keys",
        id="case-without-encryption",
    ),
    pytest.param(
        "{flag: storage_encrypted, flag_default: false, keys: [kms_key_id]}",
        "{cases: [{when: {set: engine}, handler: rds_instanse}], flag: storage_encrypted}",
        r"types\.aws_db_instance\.encryption\.cases\[0\]\.handler: unknown encryption handler 'rds_instanse'",
        id="case-unknown-handler",
    ),
]


@pytest.mark.parametrize(("old", "new", "error"), CASES)
def test_a_mistake_in_the_catalog_fails_naming_file_line_and_entry(old: str, new: str, error: str) -> None:
    assert BASE.count(old) == 1, old
    with pytest.raises(CatalogError) as info:
        _load(BASE.replace(old, new))
    message = str(info.value)
    assert re.match(r"checks/datastores\.yaml:\d+: ", message), message
    assert re.search(error, message), message


def test_a_bad_shipped_catalog_fails_at_import() -> None:
    """The module-level check in checks/catalog/__init__.py runs on import (here: re-run on a broken text)."""
    broken = catalog_text().replace("handler: s3_bucket", "handler: s3_buckett", 1)
    with pytest.raises(CatalogError, match=r"^checks/datastores\.yaml:\d+: types\.aws_s3_bucket\.encryption\.handler"):
        _load(broken)


# --------------------------------------------------------------------------- what moved into the data


def test_products_and_terraform_prefixes_come_from_the_file() -> None:
    stores = load_catalog()
    # the table that was hard-coded in checks/locate.py (_PRODUCTS) before it moved into clouds.gcp.products
    assert stores.products == (
        ("google_storage_", "storage"),
        ("google_bigquery_", "bigquery"),
        ("google_kms_", "kms"),
        ("google_firestore_", "firestore"),
        ("google_datastore_", "datastore"),
        ("google_spanner_", "spanner"),
        # clouds.azure.products: the types placed by an Azure geography (issue 15)
        ("azurerm_aadb2c_", "aadb2c"),
        ("azurerm_communication_service", "communication"),
        ("azurerm_email_communication_service", "communication"),
    )
    assert product_for("google_spanner_instance") == "spanner"
    assert product_for("azurerm_communication_service") == "communication"
    assert product_for("azurerm_storage_account") is None
    assert product_for("google_sql_database_instance") is None
    # scanner/engine.py's _TF_PREFIXES, now clouds.<cloud>.prefixes
    assert stores.terraform_prefixes() == ("aws_", "google_", "azurerm_")


def _names(fn: Any) -> set[str]:
    """Parameter keys a handler reads from its ``p`` mapping (``p["x"]``, ``p.get("x")``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    out: set[str] = set()
    for n in ast.walk(tree):
        is_p = isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == "p"
        if is_p and isinstance(n.slice, ast.Constant):
            out.add(n.slice.value)
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get"
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "p"
            and n.args
            and isinstance(n.args[0], ast.Constant)
        ):
            out.add(n.args[0].value)
        if (
            isinstance(n, ast.Compare)
            and isinstance(n.left, ast.Constant)
            and any(isinstance(c, ast.Name) and c.id == "p" for c in n.comparators)
        ):
            out.add(n.left.value)  # "any_store" in p
    return out


def test_the_schema_lists_exactly_the_parameters_each_handler_reads() -> None:
    """Meta-test: a parameter a handler reads is declared (else the file could not set it), and a declared
    parameter is read (else the schema accepts a key that does nothing)."""
    assert set(COPY_PARAMS) == set(COPY_HANDLERS)
    for name, fn in COPY_HANDLERS.items():
        assert _names(fn) == set(COPY_PARAMS[name]), name
    attach_reads = set().union(*(_names(fn) for fn in ATTACH_HANDLERS.values()))
    assert attach_reads <= set(ATTACH), attach_reads - set(ATTACH)


# --------------------------------------------------------------------------- reverse_copy's moved parameters

AZ = ProviderContext("azurerm", source="provider azurerm (main.tf:1)")
GOOGLE = ProviderContext("google", None, "europe-west1", source="provider google (main.tf:1)")


def _res(rtype: str, name: str, line: int, attrs: dict[str, Any], provider: ProviderContext = AZ) -> Resource:
    return Resource(rtype, f"{rtype}.{name}", "main.tf", line, attrs, provider=provider)


def _copies(*resources: Resource) -> dict[str, list[tuple[str, str]]]:
    facts = classify(list(resources), region_catalog())
    return {f.resource.address: [(c.kind, getattr(c.location, "code", "?")) for c in f.copies] for f in facts}


def test_mssql_database_is_a_copy_only_when_create_mode_says_so() -> None:
    servers = [
        _res("azurerm_mssql_server", "s", 1, {"name": "s", "location": "westeurope"}),
        _res("azurerm_mssql_server", "us", 5, {"name": "us", "location": "eastus"}),
    ]
    src = _res(
        "azurerm_mssql_database",
        "src",
        9,
        {"server_id": Ref("azurerm_mssql_server.s", "id"), "storage_account_type": "Local"},
    )

    def db(mode: str) -> Resource:
        attrs = {
            "server_id": Ref("azurerm_mssql_server.us", "id"),
            "create_mode": mode,
            "creation_source_database_id": Ref("azurerm_mssql_database.src", "id"),
            "storage_account_type": "Local",
        }
        return _res("azurerm_mssql_database", "db", 15, attrs)

    assert _copies(*servers, src, db("OnlineSecondary"))["azurerm_mssql_database.src"] == [("replica", "eastus")]
    assert _copies(*servers, src, db("Copy"))["azurerm_mssql_database.src"] == []


def test_azure_replica_joins_its_source_among_every_azure_store() -> None:
    src = _res("azurerm_postgresql_flexible_server", "a", 1, {"name": "a", "location": "westeurope"})
    replica = _res(
        "azurerm_postgresql_flexible_server",
        "b",
        9,
        {
            "name": "b",
            "location": "eastus",
            "create_mode": "Replica",
            "source_server_id": Ref("azurerm_postgresql_flexible_server.a", "id"),
        },
    )
    assert ("replica", "eastus") in _copies(src, replica)["azurerm_postgresql_flexible_server.a"]


def test_cloud_sql_replica_is_a_copy_of_its_master() -> None:
    master = _res("google_sql_database_instance", "m", 1, {"name": "m", "region": "europe-west1"}, GOOGLE)
    replica = _res(
        "google_sql_database_instance",
        "r",
        9,
        {"name": "r", "region": "us-central1", "master_instance_name": "m"},
        GOOGLE,
    )
    assert ("replica", "us-central1") in _copies(master, replica)["google_sql_database_instance.m"]
