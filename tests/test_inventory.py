"""The data-residency inventory: content judged like the rules, map structure, hostile labels, CSV/JSON shape."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from scanner import cli as cli_module
from scanner.inventory import (
    ALLOWED,
    DISALLOWED,
    MULTIPLE_GROUP,
    NO_LOCATION_GROUP,
    NOT_APPLICABLE,
    UNRESOLVED,
    UNRESOLVED_GROUP,
    Inventory,
    build_inventory,
)
from scanner.model import (
    Category,
    Copy,
    DataStoreFacts,
    Encryption,
    Finding,
    KeyUse,
    Location,
    Resource,
    Severity,
    Unknown,
    Waiver,
)
from scanner.policy import load_policy, policy_from_regions
from scanner.report import Report
from scanner.report.inventory_formats import (
    CSV_HEADER,
    FORMATS,
    render_csv,
    render_dot,
    render_inventory,
    render_json,
    render_markdown,
    render_mermaid,
)
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

SCHEMA = json.loads((REPO / "docs" / "inventory.schema.json").read_text())
REPORT_SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
HAS_DOT = shutil.which("dot") is not None


# --- facts built in code: the inventory's own logic, independent of loaders and catalog ---------


def _res(address: str, type_: str, line: int, file: str = "main.tf", root_dir: str | None = ".",
         source: str = "terraform") -> Resource:
    return Resource(type=type_, address=address, file=file, line=line, attributes={}, source=source,
                    root_dir=root_dir)


def _facts() -> list[DataStoreFacts]:
    aws = lambda code: Location("aws", code, f"provider aws ({code})")  # noqa: E731
    return [
        DataStoreFacts(_res("aws_s3_bucket.eu", "aws_s3_bucket", 10), "aws", True, aws("eu-west-1"),
                       encryption=Encryption.PROVIDER,
                       copies=[Copy("replica", aws("eu-central-1"), "replication_configuration.rule[0]", 14),
                               Copy("replica", aws("us-east-1"), "replication_configuration.rule[1]", 18)]),
        DataStoreFacts(_res("aws_s3_bucket.us", "aws_s3_bucket", 30), "aws", True, aws("us-east-1"),
                       encryption=Encryption.NONE),
        DataStoreFacts(_res("aws_dynamodb_table.t", "aws_dynamodb_table", 40), "aws", True, aws("eu-west-1"),
                       encryption=Encryption.CUSTOMER,
                       copies=[Copy("replica", Unknown("var.dr_region has no value"), "replica[0].region_name", 44),
                               Copy("replica", aws("eu-central-1"), "replica[1].region_name", 47)],
                       keys=[KeyUse("aws_kms_key.k.arn", aws("us-east-1"), "kms_key_arn")]),
        DataStoreFacts(_res("aws_s3_bucket.lost", "aws_s3_bucket", 60), "aws", True,
                       Unknown("provider aws has no region"), encryption=Unknown("sse is set by a data source")),
        DataStoreFacts(_res("google_storage_bucket.multi", "google_storage_bucket", 70), "gcp", True,
                       Location("gcp", "EU", "argument location"), encryption=Encryption.PROVIDER),
        DataStoreFacts(_res("google_storage_bucket.dual", "google_storage_bucket", 80), "gcp", True,
                       Location("gcp", "europe-west1+europe-west2", "custom_placement_config"),
                       encryption=Encryption.PROVIDER),
        DataStoreFacts(_res("google_storage_bucket.world", "google_storage_bucket", 90), "gcp", True,
                       Location("gcp", "nam-eur-asia1", "argument location"), encryption=Encryption.PROVIDER),
        DataStoreFacts(_res("google_secret_manager_secret.s", "google_secret_manager_secret", 100), "gcp", True,
                       Location("gcp", "europe-west4", "provider"), encryption=Encryption.PROVIDER,
                       copies=[Copy("replica", Location("gcp", "*", "replication.auto"), "replication.auto", 103)]),
        DataStoreFacts(_res("BackupStorageLocation.velero.io/velero/dr", "BackupStorageLocation.velero.io", 1,
                            file="k8s/velero.yaml", root_dir=None, source="kubernetes"),
                       "kubernetes", True, None, encryption=None,
                       copies=[Copy("backup", aws("eu-west-1"), "spec.config.region", 9)]),
        DataStoreFacts(_res("aws_s3_bucket.bogus", "aws_s3_bucket", 120), "aws", True, aws("eu-nowhere-9"),
                       encryption=Encryption.PROVIDER),
    ]


def _finding(address: str, line: int, rule: str = "RES001", waiver: Waiver | None = None) -> Finding:
    return Finding(rule, "data-store-outside-allowed-regions", Category.PLACEMENT, Severity.HIGH, address,
                   "aws_s3_bucket", "main.tf", line, "m", "r", waiver=waiver, controls=("ISO27001:5.23",))


def _inventory(tmp_path: Path, facts: list[DataStoreFacts] | None = None) -> Inventory:
    policy = policy_from_regions(["in:eu-locations"], tmp_path)
    report = Report(
        findings=[_finding("aws_s3_bucket.us", 30),
                  _finding("aws_s3_bucket.eu", 18, "RES002",
                           Waiver("DR copy approved", "2099-01-01", "dpo@example.com", "policy residency.yaml:9"))],
        data_stores=_facts() if facts is None else facts,
        scan_root=str(tmp_path),
        tool_version="0.test",
    )
    return build_inventory(report, policy)


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return _inventory(tmp_path)


def _by_address(inv: Inventory):  # type: ignore[no-untyped-def]
    return {e.address: e for e in inv.data_stores}


def test_every_data_store_once_sorted(inv: Inventory) -> None:
    addresses = [e.address for e in inv.data_stores]
    assert sorted(addresses) == sorted(f.resource.address for f in _facts())
    assert len(set(addresses)) == len(addresses)
    keys = [(e.file, e.line, e.address) for e in inv.data_stores]
    assert keys == sorted(keys)


def test_places_are_judged_like_the_rules(inv: Inventory) -> None:
    e = _by_address(inv)
    eu = e["aws_s3_bucket.eu"].place
    assert (eu.status, eu.group, eu.regions, eu.jurisdictions, eu.countries) == (
        ALLOWED, "eu", ("eu-west-1",), ("eu",), ("IE",))
    us = e["aws_s3_bucket.us"].place
    assert (us.status, us.group, us.disallowed_regions, us.disallowed_jurisdictions) == (
        DISALLOWED, "us", ("us-east-1",), ("us",))
    assert e["google_storage_bucket.multi"].place.group == "eu"
    assert e["google_storage_bucket.multi"].place.kind == "multi-region"
    dual = e["google_storage_bucket.dual"].place
    assert (dual.group, dual.status, dual.disallowed_regions) == ("eu+uk", DISALLOWED, ("europe-west2",))
    world = e["google_storage_bucket.world"].place
    assert world.group == MULTIPLE_GROUP and world.status == DISALLOWED and "us" in world.jurisdictions
    lost = e["aws_s3_bucket.lost"].place
    assert (lost.status, lost.group, lost.reason) == (UNRESOLVED, UNRESOLVED_GROUP, "provider aws has no region")
    bogus = e["aws_s3_bucket.bogus"].place
    assert (bogus.status, bogus.group, bogus.code) == (UNRESOLVED, UNRESOLVED_GROUP, "eu-nowhere-9")
    assert "unknown region code" in (bogus.reason or "")
    velero = e["BackupStorageLocation.velero.io/velero/dr"].place
    assert (velero.status, velero.group) == (NOT_APPLICABLE, NO_LOCATION_GROUP)


def test_encryption_levels_and_minimum(inv: Inventory) -> None:
    e = _by_address(inv)
    assert (e["aws_s3_bucket.eu"].encryption, e["aws_s3_bucket.eu"].encryption_meets_minimum) == (
        "provider-managed", True)
    assert (e["aws_s3_bucket.us"].encryption, e["aws_s3_bucket.us"].encryption_meets_minimum) == ("none", False)
    assert e["aws_dynamodb_table.t"].encryption == "customer-managed"
    lost = e["aws_s3_bucket.lost"]
    assert (lost.encryption, lost.encryption_reason, lost.encryption_meets_minimum) == (
        "unknown", "sse is set by a data source", None)
    assert e["BackupStorageLocation.velero.io/velero/dr"].encryption == NOT_APPLICABLE


def test_copies_and_keys_are_judged(inv: Inventory) -> None:
    e = _by_address(inv)
    assert [(c.place.code, c.place.status, c.line) for c in e["aws_s3_bucket.eu"].copies] == [
        ("eu-central-1", ALLOWED, 14), ("us-east-1", DISALLOWED, 18)]
    table = e["aws_dynamodb_table.t"]
    assert [c.place.status for c in table.copies] == [UNRESOLVED, ALLOWED]
    assert table.copies[0].place.reason == "var.dr_region has no value"
    assert [(k.reference, k.place.status) for k in table.keys] == [("aws_kms_key.k.arn", DISALLOWED)]
    auto = e["google_secret_manager_secret.s"].copies[0].place
    assert (auto.kind, auto.status, auto.group) == ("any-region", DISALLOWED, MULTIPLE_GROUP)


def test_findings_and_waivers_attached(inv: Inventory) -> None:
    e = _by_address(inv)
    assert [f.rule_id for f in e["aws_s3_bucket.us"].findings] == ["RES001"]
    (waived,) = e["aws_s3_bucket.eu"].findings
    assert waived.waived and waived.waiver.reason == "DR copy approved"
    assert e["aws_dynamodb_table.t"].findings == ()
    assert inv.totals["waived_findings"] == 1


def test_summaries(inv: Inventory) -> None:
    assert inv.by_jurisdiction["us"] == {"data_stores": 2, "disallowed_data_stores": 2, "copies": 2,
                                         "disallowed_copies": 2}
    assert inv.by_jurisdiction[UNRESOLVED_GROUP]["data_stores"] == 2
    assert inv.by_jurisdiction[NO_LOCATION_GROUP] == {"data_stores": 1, "disallowed_data_stores": 0, "copies": 0,
                                                      "disallowed_copies": 0}
    assert list(inv.by_jurisdiction)[-2:] == [NO_LOCATION_GROUP, UNRESOLVED_GROUP]
    assert inv.by_cloud["aws"]["data_stores"] == 5
    assert inv.by_cloud["aws"]["disallowed_data_stores"] == 1
    assert inv.by_cloud["aws"]["unresolved_data_stores"] == 2
    assert inv.by_cloud["aws"]["regions"] == ["eu-west-1", "us-east-1"]
    t = inv.totals
    assert (t["data_stores"], t["copies"], t["keys"], t["disallowed_copies"], t["unresolved_copies"]) == (
        10, 6, 1, 2, 1)


def test_scopes_and_exemptions_follow_the_policy(tmp_path: Path) -> None:
    (tmp_path / "residency.yaml").write_text(
        "version: 1\nallowed_regions: [in:eu-locations]\n"
        "scopes:\n  - paths: ['us/**']\n    allowed_regions: [in:us-locations]\n"
        "exempt:\n  tags: {data-classification: [public]}\n", encoding="utf-8")
    policy = load_policy(tmp_path / "residency.yaml")
    us = Location("aws", "us-east-1", "provider")
    facts = [
        DataStoreFacts(_res("aws_s3_bucket.x", "aws_s3_bucket", 1, file="us/main.tf", root_dir="us"), "aws", True,
                       us, encryption=Encryption.PROVIDER,
                       copies=[Copy("replica", Location("aws", "eu-west-1", "p"), "rule", 3)]),
        DataStoreFacts(_res("aws_s3_bucket.x", "aws_s3_bucket", 1, file="eu/main.tf", root_dir="eu"), "aws", True,
                       us, encryption=Encryption.PROVIDER, tags={"data-classification": "public"}),
    ]
    inv = build_inventory(Report(findings=[], data_stores=facts, scan_root=str(tmp_path)), policy)
    us_entry, eu_entry = sorted(inv.data_stores, key=lambda e: e.file, reverse=True)
    assert (us_entry.file, us_entry.place.status, us_entry.allowed_regions) == (
        "us/main.tf", ALLOWED, "in:us-locations")
    assert us_entry.copies[0].place.status == DISALLOWED  # eu-west-1 is outside the us scope
    assert (eu_entry.place.status, eu_entry.exemption) == (DISALLOWED, "tag data-classification=public")
    assert len({e.id for e in inv.data_stores}) == 2  # same address, two roots


# --- Mermaid ----------------------------------------------------------------------------------

_NODE = re.compile(r'^    (?P<id>[A-Za-z][A-Za-z0-9_]*)(?:\["(?P<a>[^"]*)"\]|\(\["(?P<b>[^"]*)"\]\))$')
_EDGE = re.compile(r'^  (?P<src>\w+) (?P<arrow>-->|-\.->)\|"(?P<label>[^"]*)"\| (?P<dst>\w+)$')
_SUBGRAPH = re.compile(r'^  subgraph (?P<id>g\d+)\["(?P<title>[^"]*)"\]$')


def parse_mermaid(text: str) -> dict[str, object]:
    """A strict reader of the subset the renderer writes: any other line shape fails the test."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    edges: list[tuple[str, str, str, str]] = []
    red: list[int] = []
    classes: list[str] = []
    current: str | None = None
    for line in lines[1:]:
        if m := _SUBGRAPH.match(line):
            assert current is None, "nested subgraph"
            current = m["title"]
            groups[current] = []
        elif line == "  end":
            assert current is not None
            current = None
        elif m := _NODE.match(line):
            assert current is not None, f"node outside a subgraph: {line}"
            groups[current].append(m["id"])
            labels[m["id"]] = m["a"] if m["a"] is not None else m["b"]
        elif m := _EDGE.match(line):
            assert current is None
            edges.append((m["src"], m["dst"], m["label"], m["arrow"]))
        elif m := re.fullmatch(r"  linkStyle (\d+) stroke:#d00,stroke-width:2px", line):
            red.append(int(m[1]))
        elif line == "  classDef disallowed stroke:#d00,stroke-width:2px":
            pass
        elif m := re.fullmatch(r"  class ([\w,]+) disallowed", line):
            classes = m[1].split(",")
        elif line == '  empty["no data stores found"]':
            pass
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert current is None, "unclosed subgraph"
    return {"groups": groups, "labels": labels, "edges": edges, "red": red, "classes": classes}


def test_mermaid_has_a_subgraph_per_jurisdiction(inv: Inventory) -> None:
    m = parse_mermaid(render_mermaid(inv))
    groups = m["groups"]
    assert list(groups) == ["jurisdiction eu", "jurisdictions eu + uk", "jurisdiction us", "several jurisdictions",
                            "no location of its own", "unresolved location"]
    ids = {e.address: f"s{i}" for i, e in enumerate(inv.data_stores)}
    for entry in inv.data_stores:
        title = {"eu": "jurisdiction eu", "us": "jurisdiction us", "eu+uk": "jurisdictions eu + uk",
                 MULTIPLE_GROUP: "several jurisdictions", NO_LOCATION_GROUP: "no location of its own",
                 UNRESOLVED_GROUP: "unresolved location"}[entry.place.group]
        assert ids[entry.address] in groups[title]
    node_ids = [n for nodes in groups.values() for n in nodes]
    assert len(node_ids) == len(set(node_ids))


def test_mermaid_red_edges_exactly_for_disallowed_copies(inv: Inventory) -> None:
    m = parse_mermaid(render_mermaid(inv))
    edges = m["edges"]
    copies = inv.copies
    assert len(edges) == len(copies)
    disallowed = [i for i, (_, c) in enumerate(copies) if c.place.status == DISALLOWED]
    assert m["red"] == disallowed and len(disallowed) == 2  # the us-east-1 replica and "any region"
    dashed = [i for i, e in enumerate(edges) if e[3] == "-.->"]
    assert dashed == [i for i, (_, c) in enumerate(copies) if c.place.status == UNRESOLVED]
    # every red edge ends in a node that is drawn in a jurisdiction the policy does not allow
    for i in m["red"]:
        assert edges[i][1] in m["classes"]


def test_mermaid_copy_targets_are_shared_per_region(inv: Inventory) -> None:
    m = parse_mermaid(render_mermaid(inv))
    targets = [e[1] for e in m["edges"] if m["labels"][e[1]] == "aws eu-central-1"]
    assert len(targets) == 2 and len(set(targets)) == 1
    assert m["labels"][targets[0]] == "aws eu-central-1"
    assert targets[0] in m["groups"]["jurisdiction eu"]


HOSTILE = [
    'aws_s3_bucket.x["a"]; click s0 call alert(1); x["',
    "aws_s3_bucket.y\nflowchart TD\n  evil",
    "aws_s3_bucket.z<img src=x onerror=alert(1)>",
    '%%{init: {"securityLevel": "loose"}}%%',
    "aws_s3_bucket.`**md**`|pipe|#quot;&amp;",
    "aws_s3_bucket.end",
    'aws_s3_bucket.w\\N\\G"; evil -> x [label="',
    "=HYPERLINK(\"http://x\")",
]


def _hostile(tmp_path: Path) -> Inventory:
    facts = [DataStoreFacts(_res(a, "aws_s3_bucket", i + 1, file=f"dir\n{i}.tf"), "aws", True,
                            Location("aws", "eu-west-1", "p"), encryption=Encryption.PROVIDER,
                            copies=[Copy("replica", Unknown(f'reason "{a}"'), "x", None),
                                    Copy('re"pl|ica]', Location("aws", "us-east-1", "p"), a, None)])
             for i, a in enumerate(HOSTILE)]
    return _inventory(tmp_path, facts)


def test_mermaid_labels_cannot_break_the_diagram(tmp_path: Path) -> None:
    inv = _hostile(tmp_path)
    text = render_mermaid(inv)
    m = parse_mermaid(text)  # raises on any line the renderer did not mean to write
    assert sum(len(n) for n in m["groups"].values()) == len(HOSTILE) * 2 + 1
    assert len(m["edges"]) == len(HOSTILE) * 2
    for label in [*m["labels"].values(), *(e[2] for e in m["edges"])]:
        for part in label.split("<br/>"):  # the renderer's own line breaks
            assert not set(part) & set('"<>%`|\n\r'), label
    assert "%%" not in text and "<img" not in text and "click" not in text.split("\n")[2][:12]
    assert "#quot;" in m["labels"]["s0"]


def test_dot_labels_cannot_break_the_graph(tmp_path: Path) -> None:
    inv = _hostile(tmp_path)
    text = render_dot(inv)
    for line in text.splitlines():
        quoted = re.sub(r'"(?:[^"\\]|\\.)*"', "Q", line)  # remove well-formed quoted strings
        assert '"' not in quoted, line
        assert "\n" not in quoted
    assert len(re.findall(r"^  \w+ -> \w+ \[", text, re.M)) == len(HOSTILE) * 2
    if HAS_DOT:
        svg = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, check=True).stdout
        root = ET.fromstring(svg)
        nodes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
        assert len(nodes) == len(HOSTILE) * 2 + 1


def test_dot_structure(inv: Inventory) -> None:
    text = render_dot(inv)
    assert text.startswith("digraph residency {") and text.rstrip().endswith("}")
    clusters = re.findall(r'subgraph cluster_\d+ \{\n    label="([^"]*)"', text)
    assert clusters == ["jurisdiction eu", "jurisdictions eu + uk", "jurisdiction us", "several jurisdictions",
                        "no location of its own", "unresolved location"]
    edges = re.findall(r"^  (\w+) -> (\w+) \[(.*)\];$", text, re.M)
    assert len(edges) == len(inv.copies)
    red = [i for i, e in enumerate(edges) if 'color="#dd0000"' in e[2]]
    assert red == [i for i, (_, c) in enumerate(inv.copies) if c.place.status == DISALLOWED]


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_dot_renders_to_svg(inv: Inventory, tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    subprocess.run(["dot", "-Tsvg", "-o", str(out)], input=render_dot(inv).encode(), check=True)
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "aws_s3_bucket.eu" in texts and "jurisdiction us" in texts


# --- CSV and JSON -----------------------------------------------------------------------------


def test_csv_shape(inv: Inventory) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(inv))))
    assert tuple(rows[0]) == CSV_HEADER
    body = rows[1:]
    assert all(len(r) == len(CSV_HEADER) for r in body)
    col = {name: i for i, name in enumerate(CSV_HEADER)}
    kinds = [r[col["row"]] for r in body]
    assert kinds.count("data-store") == len(inv.data_stores)
    assert kinds.count("copy") == len(inv.copies) and kinds.count("key") == 1
    assert body[0][col["row"]] == "data-store"  # a data store's row comes before its copies and keys
    eu_copies = [r for r in body if r[col["row"]] == "copy" and r[col["address"]] == "aws_s3_bucket.eu"]
    assert [(r[col["location"]], r[col["status"]], r[col["line"]]) for r in eu_copies] == [
        ("eu-central-1", "allowed", "14"), ("us-east-1", "disallowed", "18")]
    us = next(r for r in body if r[col["address"]] == "aws_s3_bucket.us")
    assert (us[col["jurisdictions"]], us[col["countries"]], us[col["encryption"]], us[col["findings"]]) == (
        "us", "US", "none", "RES001")
    eu = next(r for r in body if r[col["address"]] == "aws_s3_bucket.eu" and r[col["row"]] == "data-store")
    assert eu[col["findings"]] == "RES002(waived)"


def test_csv_neutralises_formulas_and_newlines(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(_hostile(tmp_path)))))
    assert all(len(r) == len(CSV_HEADER) for r in rows)
    for r in rows[1:]:
        for cell in r:
            assert cell[:1] not in ("=", "+", "-", "@"), cell
    assert "'=HYPERLINK(\"http://x\")" in [r[1] for r in rows]


def test_json_validates_and_is_stable(inv: Inventory) -> None:
    data = json.loads(render_json(inv))
    jsonschema.validate(data, SCHEMA)
    assert render_json(inv) == render_json(inv)
    assert data["schema_version"] == 1 and data["tool"]["version"] == "0.test"
    finding_schema = {**REPORT_SCHEMA["definitions"]["finding"], "definitions": REPORT_SCHEMA["definitions"]}
    for store in data["data_stores"]:
        for f in store["findings"]:
            jsonschema.validate(f, finding_schema)
    eu = next(s for s in data["data_stores"] if s["address"] == "aws_s3_bucket.eu")
    assert eu["location"]["jurisdictions"] == ["eu"] and eu["location"]["map_group"] == "eu"
    assert [c["location"]["status"] for c in eu["copies"]] == ["allowed", "disallowed"]
    assert eu["findings"][0]["controls"] == ["ISO27001:5.23"]


def test_json_schema_documents_every_key(inv: Inventory) -> None:
    """additionalProperties is false throughout, so a new key without a schema entry fails here."""
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(render_json(_inventory(Path("."), []))), SCHEMA)


def test_markdown_embeds_the_map_and_tables(inv: Inventory) -> None:
    md = render_markdown(inv)
    block = md.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert block + "\n" == render_mermaid(inv)
    for heading in ("## Map", "## By jurisdiction", "## By cloud", "## Data stores", "## Copies", "## Keys"):
        assert f"\n{heading}\n" in md
    assert "| data store | type | file | location |" in md


def test_markdown_rows_keep_their_columns_with_hostile_values(tmp_path: Path) -> None:
    md = render_markdown(_hostile(tmp_path))
    table = md.split("## Data stores\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    widths = {len(re.split(r"(?<!\\)\|", row)) for row in table}
    assert len(widths) == 1 and len(table) == len(HOSTILE) + 2
    outside_code = re.sub(r"(`+).*?\1", "", md.split("```mermaid", 1)[0] + md.split("\n```\n", 1)[1])
    assert "<img" not in outside_code and "<br/>" not in outside_code


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_inventory_renders(fmt: str, tmp_path: Path) -> None:
    text = render_inventory(fmt, _inventory(tmp_path, []))
    assert text.endswith("\n")
    if fmt == "mermaid":
        parse_mermaid(text)


# --- through the engine and the CLI -----------------------------------------------------------

MAIN_TF = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_s3_bucket" "eu" {
  bucket = "eu-data"
}

resource "aws_s3_bucket" "us" {
  provider = aws.us
  bucket   = "us-data"
}

resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"
  attribute {
    name = "id"
    type = "S"
  }
  replica {
    region_name = "eu-central-1"
  }
  replica {
    region_name = "us-west-2"
  }
}
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    (tmp_path / "residency.yaml").write_text("version: 1\nallowed_regions: [in:eu-locations]\n", encoding="utf-8")
    return tmp_path


def _cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli_module.cli, args, catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_inventory_json_through_the_engine(tmp_path: Path) -> None:
    project = _project(tmp_path)
    code, out = _cli(["inventory", str(project), "--format", "json"])
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    stores = {s["address"]: s for s in data["data_stores"]}
    assert set(stores) == {"aws_s3_bucket.eu", "aws_s3_bucket.us", "aws_dynamodb_table.orders"}
    assert {a: (s["location"]["code"], s["location"]["jurisdictions"], s["location"]["status"], s["line"])
            for a, s in stores.items()} == {
        "aws_s3_bucket.eu": ("eu-west-1", ["eu"], "allowed", 11),
        "aws_s3_bucket.us": ("us-east-1", ["us"], "disallowed", 15),
        "aws_dynamodb_table.orders": ("eu-west-1", ["eu"], "allowed", 20),
    }
    replicas = stores["aws_dynamodb_table.orders"]["copies"]
    assert [(c["kind"], c["location"]["code"], c["location"]["status"]) for c in replicas] == [
        ("replica", "eu-central-1", "allowed"), ("replica", "us-west-2", "disallowed")]
    assert all(s["encryption"]["level"] in ("provider-managed", "customer-managed") for s in stores.values())
    assert "RES001" in [f["rule_id"] for f in stores["aws_s3_bucket.us"]["findings"]]
    assert data["policy"].endswith("residency.yaml")


def test_cli_inventory_mermaid_and_output_file(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out_file = tmp_path / "inv.md"
    code, out = _cli(["inventory", str(project), "--format", "markdown", "-o", str(out_file)])
    assert code == 0 and out == ""
    md = out_file.read_text(encoding="utf-8")
    m = parse_mermaid(md.split("```mermaid\n", 1)[1].split("\n```", 1)[0] + "\n")
    assert set(m["groups"]) == {"jurisdiction eu", "jurisdiction us"}
    assert len(m["edges"]) == 2 and len(m["red"]) == 1
    assert m["labels"][m["edges"][m["red"][0]][1]] == "aws us-west-2"


def test_cli_inventory_allowed_regions_and_bad_format(tmp_path: Path) -> None:
    project = _project(tmp_path)
    code, out = _cli(["inventory", str(project), "--allowed-regions", "in:us-locations,in:eu-locations",
                      "--format", "csv"])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["status"] for r in rows} == {"allowed"}
    assert cli_module.main(["inventory", str(project), "--format", "pdf"]) == 2


# --- the repository's fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures_run():  # type: ignore[no-untyped-def]
    from scanner.engine import ScanOptions, scan

    policy = load_policy(BUNDLED_POLICY)
    report = scan(ScanOptions(paths=[FIXTURES], use_cache=False, keep_facts=True), policy)
    return report, build_inventory(report, policy)


def test_fixtures_every_data_store_once(fixtures_run) -> None:  # type: ignore[no-untyped-def]
    report, inv = fixtures_run
    expected = sorted((f.resource.file, f.resource.address) for f in report.data_stores)
    assert sorted((e.file, e.address) for e in inv.data_stores) == expected
    assert len({e.id for e in inv.data_stores}) == len(inv.data_stores)
    assert inv.data_stores, "the fixtures hold data stores"


def test_fixtures_map_matches_the_judgement(fixtures_run) -> None:  # type: ignore[no-untyped-def]
    _, inv = fixtures_run
    m = parse_mermaid(render_mermaid(inv))
    copies = inv.copies
    access = [a for e in inv.data_stores for a in e.access if a.status != "allowed"]  # drawn after the copies
    drawn = len(copies) + len(access)  # flow edges come last
    assert m["red"] == [i for i, (_, c) in enumerate(copies) if c.place.status == DISALLOWED] + [
        len(copies) + i for i, a in enumerate(access) if a.status in (DISALLOWED, "public")] + [
        drawn + i for i, f in enumerate(inv.flows) if f.status == DISALLOWED]
    jurisdictions = {j for e in inv.data_stores if e.place.group not in (MULTIPLE_GROUP, UNRESOLVED_GROUP,
                                                                       NO_LOCATION_GROUP) for j in [e.place.group]}
    for j in jurisdictions:
        assert any(title.endswith(j.replace("+", " + ")) for title in m["groups"])
    jsonschema.validate(json.loads(render_json(inv)), SCHEMA)


def test_fixtures_disallowed_places_have_findings(fixtures_run) -> None:  # type: ignore[no-untyped-def]
    """The map and the rules judge alike: what the map shows red, some rule reported (or it is exempt)."""
    _, inv = fixtures_run
    for e in inv.data_stores:
        if e.exemption:
            continue
        red = e.place.status == DISALLOWED or any(c.place.status == DISALLOWED for c in e.copies)
        if red:
            assert e.findings, f"{e.file}:{e.address} is outside the allowed regions but has no finding"


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz dot is not installed")
def test_fixtures_dot_renders(fixtures_run) -> None:  # type: ignore[no-untyped-def]
    _, inv = fixtures_run
    svg = subprocess.run(["dot", "-Tsvg"], input=render_dot(inv).encode(), capture_output=True, check=True).stdout
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"


def test_committed_map_is_an_svg() -> None:
    root = ET.parse(REPO / "docs" / "residency-map.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
