"""Inventory formats: json, markdown (with an embedded Mermaid map), mermaid, dot, csv.

Every value here may come from the scanned repository (addresses, tags, file names, Unknown
reasons), so each format escapes for its own syntax: a quote, bracket, newline, ``<`` or ``%%{``
in a resource name must not break or re-program the diagram, split a CSV row, or start a
spreadsheet formula.

The map (Mermaid and dot draw the same graph):

- one group (subgraph / cluster) per jurisdiction holding the data stores located there; a
  location spanning two or three jurisdictions gets a group named ``eu+uk``, more than that goes to
  ``multiple``; Unknown locations and unknown codes go to ``unresolved``; data stores without a
  location of their own (a Velero BackupStorageLocation) to ``no-location``;
- copy targets (replica, backup, geo-pair ... regions) are nodes in the group of their own
  jurisdiction, one per cloud and code; an unresolved copy target is one node per copy;
- an arrow per copy, labelled with its kind: red (``#d00``, width 2) exactly when the target has a
  region the policy scope of the data store does not allow, dashed when the target is unresolved;
- nodes of data stores and targets outside the allowed regions have a red border;
- a flow edge per pipe destination (RES007's judgement), from the data store the pipe reads, or from
  the pipe itself in the ``pipes`` group when it reads none of this scan, to a destination node in
  the group of its jurisdictions: red when outside ``movement.allowed``, dashed when unresolved.

CSV has a fixed header (:data:`CSV_HEADER`) and one row per data store (``row=data-store``)
followed by a row per copy (``row=copy``) and per key (``row=key``) of that data store, which repeat
the data store's address, type, file and cloud and describe the target in the location columns; then a
row per pipe destination (``row=flow``: the pipe's address, the destination in ``location``, what it is
in ``copy_kind``).
List values are joined with ``;``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from scanner.escape import MarkdownText, clean, markdown_code, markdown_text, single_line
from scanner.inventory import (
    ALLOWED,
    DISALLOWED,
    MULTIPLE_GROUP,
    NO_LOCATION_GROUP,
    PIPE_GROUP,
    PUBLIC,
    UNRESOLVED,
    UNRESOLVED_GROUP,
    CopyEntry,
    DataStoreEntry,
    FlowEntry,
    Inventory,
    Place,
    group_order,
)
from scanner.report.json_format import finding_dict
from scanner.table import markdown_table

FORMATS = ("json", "markdown", "mermaid", "dot", "csv")
SCHEMA_VERSION = 1
RED = "#d00"
DOT_RED = "#dd0000"

CSV_HEADER = (
    "row", "address", "type", "file", "line", "cloud", "location", "location_kind", "regions",
    "jurisdictions", "countries", "status", "disallowed_regions", "encryption", "copy_kind", "via",
    "findings", "exemption",
)


def render_inventory(fmt: str, inventory: Inventory) -> str:
    """Render ``inventory`` in one of :data:`FORMATS`."""
    renderers = {"json": render_json, "markdown": render_markdown, "mermaid": render_mermaid,
                 "dot": render_dot, "csv": render_csv}
    if fmt not in renderers:
        raise ValueError(f"unknown inventory format {fmt!r}; choose from {', '.join(FORMATS)}")
    return renderers[fmt](inventory)


# --- JSON -------------------------------------------------------------------------------------


def place_dict(p: Place) -> dict[str, Any]:
    """A judged location as documented in docs/inventory.schema.json."""
    return {
        "status": p.status, "cloud": p.cloud, "code": p.code, "kind": p.kind,
        "regions": list(p.regions), "jurisdictions": list(p.jurisdictions), "countries": list(p.countries),
        "disallowed_regions": list(p.disallowed_regions), "disallowed_jurisdictions": list(p.disallowed_jurisdictions),
        "description": p.description, "provenance": p.provenance, "reason": p.reason, "map_group": p.group,
    }


def data_store_dict(e: DataStoreEntry) -> dict[str, Any]:
    """One data store as documented in docs/inventory.schema.json."""
    return {
        "address": e.address, "type": e.type, "file": e.file, "line": e.line, "source": e.source,
        "cloud": e.cloud, "role": e.role,
        "location": place_dict(e.place),
        "allowed_regions": e.allowed_regions,
        "encryption": {"level": e.encryption, "source": e.encryption_source, "reason": e.encryption_reason,
                       "meets_minimum": e.encryption_meets_minimum},
        "copies": [{"kind": c.kind, "via": c.via, "line": c.line, "note": c.note, "location": place_dict(c.place)}
                   for c in e.copies],
        "keys": [{"reference": k.reference, "via": k.via, "location": place_dict(k.place)} for k in e.keys],
        "findings": [finding_dict(f) for f in e.findings],
        "exemption": e.exemption,
        "access": [{"principal": a.principal, "status": a.status, "actions": list(a.actions), "grant": a.grant,
                    "via": a.via, "file": a.file, "line": a.line, "location": a.location,
                    "provenance": a.provenance, "reason": a.reason} for a in e.access],
    }


def flow_dict(f: FlowEntry) -> dict[str, Any]:
    """One pipe destination (a map edge) as documented in docs/inventory.schema.json."""
    return {
        "pipe": f.pipe, "type": f.type, "file": f.file, "line": f.line,
        "from": {"address": f.source, "kind": f.source_kind, "file": f.source_file},
        "to": f.destination, "what": f.what, "via": f.via, "status": f.status, "location": f.location,
        "jurisdictions": list(f.jurisdictions), "disallowed_regions": list(f.disallowed_regions),
        "provenance": f.provenance, "reason": f.reason, "map_group": f.group,
    }


def document(inv: Inventory) -> dict[str, Any]:
    """The whole inventory as a JSON-ready dict (schema_version 1: later versions only add keys)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-guardrail", "version": inv.tool_version},
        "scan_root": inv.scan_root,
        "policy": inv.policy_path,
        "allowed_regions": inv.allowed_regions,
        "encryption_minimum": inv.encryption_minimum,
        "totals": inv.totals,
        "by_jurisdiction": inv.by_jurisdiction,
        "by_cloud": inv.by_cloud,
        "data_stores": [data_store_dict(e) for e in inv.data_stores],
        "flows": [flow_dict(f) for f in inv.flows],
    }


def render_json(inv: Inventory) -> str:
    return json.dumps(document(inv), indent=2, ensure_ascii=False) + "\n"


# --- the graph both map formats draw ----------------------------------------------------------


@dataclass
class _Node:
    id: str
    lines: list[str]
    group: str
    store: bool
    disallowed: bool = False


@dataclass
class _Edge:
    src: str
    dst: str
    label: str
    status: str


@dataclass
class _Graph:
    groups: dict[str, list[_Node]] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)

    def add(self, node: _Node) -> None:
        self.groups.setdefault(node.group, []).append(node)

    def ordered(self) -> list[tuple[str, list[_Node]]]:
        return [(g, self.groups[g]) for g in sorted(self.groups, key=group_order)]


def _graph(inv: Inventory) -> _Graph:
    graph = _Graph()
    targets: dict[tuple[str | None, str | None], _Node] = {}
    principals: dict[tuple[str, str], _Node] = {}
    stores: list[tuple[_Node, DataStoreEntry]] = []
    by_id: dict[tuple[str, str], _Node] = {}
    unresolved = 0
    for i, e in enumerate(inv.data_stores):
        store = _Node(f"s{i}", _store_lines(e), e.place.group, True, e.place.status == DISALLOWED)
        graph.add(store)
        by_id[(e.file, e.address)] = store
        for c in e.copies:
            target = _target(c, targets, graph, unresolved)
            if c.place.status == UNRESOLVED or c.place.code is None:
                unresolved += 1
            target.disallowed |= c.place.status == DISALLOWED
            graph.edges.append(_Edge(store.id, target.id, c.kind, c.place.status))
        stores.append((store, e))
    # access edges after every copy edge: edge i < len(inv.copies) is copy i
    for store, e in stores:
        for a in e.access:
            if a.status == ALLOWED:
                continue  # the map shows who reaches a store from outside (or cannot be placed)
            key = (a.principal, a.group)
            node = principals.get(key)
            if node is None:
                lines = [_clip(a.principal, 70), a.location or ("anyone" if a.status == PUBLIC else "not placed")]
                node = principals[key] = _Node(f"p{len(principals)}", lines, a.group, False)
                graph.add(node)
            node.disallowed |= a.status in (DISALLOWED, PUBLIC)
            status = DISALLOWED if a.status in (DISALLOWED, PUBLIC) else a.status
            graph.edges.append(_Edge(node.id, store.id, "access", status))
    # flow edges last: from the store the pipe reads (or the pipe itself) to its destination
    pipes: dict[tuple[str, str], _Node] = {}
    destinations: dict[tuple[str, str], _Node] = {}
    for f in inv.flows:
        src = by_id.get((f.source_file, f.source)) if f.source_kind == "data-store" else None
        if src is None:
            src = pipes.get((f.file, f.pipe))
            if src is None:
                lines = [f.pipe] + ([] if f.type in f.pipe else [f.type])
                src = pipes[(f.file, f.pipe)] = _Node(f"f{len(pipes)}", lines, PIPE_GROUP, True)
                graph.add(src)
        key = (f.destination, f.group)
        dst = destinations.get(key)
        if dst is None:
            where = f.location if f.status != UNRESOLVED else f"unresolved: {_clip(f.reason, 70)}"
            dst = destinations[key] = _Node(f"d{len(destinations)}", [_clip(f.destination, 70), where], f.group,
                                            False)
            graph.add(dst)
        dst.disallowed |= f.status == DISALLOWED
        graph.edges.append(_Edge(src.id, dst.id, f.what, f.status))
    return graph


def _target(c: CopyEntry, targets: dict[tuple[str | None, str | None], _Node], graph: _Graph,
            unresolved: int) -> _Node:
    p = c.place
    if p.status == UNRESOLVED or p.code is None:
        reason = p.reason or "unknown"
        node = _Node(f"u{unresolved}", [f"{p.label}: {_clip(reason, 70)}"], p.group, False)
        graph.add(node)
        return node
    key = (p.cloud, p.code)
    if key not in targets:
        lines = [p.label]
        if p.group == MULTIPLE_GROUP or "+" in p.group or p.kind not in ("region", "zone"):
            lines.append(", ".join(p.jurisdictions))
        targets[key] = _Node(f"t{len(targets)}", lines, p.group, False)
        graph.add(targets[key])
    return targets[key]


def _store_lines(e: DataStoreEntry) -> list[str]:
    where = e.place.label
    if e.place.group == MULTIPLE_GROUP:
        where += f" ({', '.join(e.place.jurisdictions)})"
    elif e.place.reason and e.place.status == UNRESOLVED:
        where += f": {_clip(e.place.reason, 70)}"
    # Addresses already name the type (aws_s3_bucket.x, Kind.group/ns/name); repeat it only when not.
    lines = [e.address] + ([] if e.type in e.address else [e.type]) + [f"{where} · encryption {e.encryption}"]
    if e.findings:
        lines.append(", ".join(dict.fromkeys(f.rule_id + (" waived" if f.waived else "") for f in e.findings)))
    return lines


def _clip(text: str, n: int) -> str:
    text = single_line(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def group_title(group: str) -> str:
    """What a map group is called on the page."""
    if group == UNRESOLVED_GROUP:
        return "unresolved location"
    if group == NO_LOCATION_GROUP:
        return "no location of its own"
    if group == MULTIPLE_GROUP:
        return "several jurisdictions"
    if group == PIPE_GROUP:
        return "pipes and workloads"
    if "+" in group:
        return "jurisdictions " + " + ".join(group.split("+"))
    return f"jurisdiction {group}"


# --- Mermaid ----------------------------------------------------------------------------------

# Mermaid decodes ``#name;``/``#123;`` entities in labels. Escaping ``#`` first keeps scanned text
# from forming entities; ``%`` stops ``%%{init: ...}%%`` directives (which can change the security
# level of the render) from being found anywhere in the text; ``"`` ends a quoted label, ``|`` an
# edge label, ``<``/``>``/``&`` would be HTML, and a leading backtick would start a Markdown string.
_MERMAID = {"#": "#35;", "%": "#37;", "&": "#38;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;",
            "|": "#124;"}


def mermaid_text(value: object) -> str:
    """A scanned value as literal text inside a quoted Mermaid label, on one line."""
    return "".join(_MERMAID.get(ch, ch) for ch in single_line(clean(value)))


def _mermaid_label(lines: list[str]) -> str:
    return '"' + "<br/>".join(mermaid_text(line) for line in lines) + '"'


def render_mermaid(inv: Inventory) -> str:
    """``flowchart LR``: a subgraph per jurisdiction, arrows per copy, red when not allowed."""
    graph = _graph(inv)
    out = ["flowchart LR"]
    if not inv.data_stores and not inv.flows:
        out.append('  empty["no data stores found"]')
    for gi, (group, nodes) in enumerate(graph.ordered()):
        out.append(f"  subgraph g{gi}[{_mermaid_label([group_title(group)])}]")
        for n in nodes:
            shape = ("[", "]") if n.store else ("([", "])")
            out.append(f"    {n.id}{shape[0]}{_mermaid_label(n.lines)}{shape[1]}")
        out.append("  end")
    red: list[int] = []
    for i, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.status == UNRESOLVED else "-->"
        out.append(f"  {edge.src} {arrow}|{_mermaid_label([edge.label])}| {edge.dst}")
        if edge.status == DISALLOWED:
            red.append(i)
    for i in red:
        out.append(f"  linkStyle {i} stroke:{RED},stroke-width:2px")
    bad = [n.id for _, nodes in graph.ordered() for n in nodes if n.disallowed]
    if bad:
        out.append(f"  classDef disallowed stroke:{RED},stroke-width:2px")
        out.append(f"  class {','.join(bad)} disallowed")
    return "\n".join(out) + "\n"


# --- Graphviz dot -----------------------------------------------------------------------------


def dot_text(value: object) -> str:
    """A scanned value inside a double-quoted dot string: backslashes and quotes escaped, one line.

    Escaping ``\\`` also disarms dot's own escapes (``\\N``, ``\\G``, ``\\l``) in scanned text.
    """
    return single_line(clean(value)).replace("\\", "\\\\").replace('"', '\\"')


def _dot_label(lines: list[str]) -> str:
    return '"' + "\\n".join(dot_text(line) for line in lines) + '"'


def render_dot(inv: Inventory) -> str:
    """The same map as Graphviz: a cluster per jurisdiction, red edges for disallowed copies."""
    graph = _graph(inv)
    title = f"data-residency map; allowed: {inv.allowed_regions}" if inv.allowed_regions else "data-residency map"
    out = [
        "digraph residency {",
        f'  graph [rankdir=LR, charset="UTF-8", fontname="Helvetica", labelloc=t, label={_dot_label([title])}];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    if not inv.data_stores and not inv.flows:
        out.append('  empty [label="no data stores found"];')
    for gi, (group, nodes) in enumerate(graph.ordered()):
        out.append(f"  subgraph cluster_{gi} {{")
        out.append(f'    label={_dot_label([group_title(group)])}; style="rounded,filled"; fillcolor="#f4f6f8";')
        for n in nodes:
            attrs = [f"label={_dot_label(n.lines)}"]
            if not n.store:
                attrs.append("shape=ellipse")
            if n.disallowed:
                attrs.append(f'color="{DOT_RED}", penwidth=2')
            out.append(f"    {n.id} [{', '.join(attrs)}];")
        out.append("  }")
    for edge in graph.edges:
        attrs = [f"label={_dot_label([edge.label])}"]
        if edge.status == DISALLOWED:
            attrs.append(f'color="{DOT_RED}", fontcolor="{DOT_RED}", penwidth=2')
        elif edge.status == UNRESOLVED:
            attrs.append("style=dashed")
        out.append(f"  {edge.src} -> {edge.dst} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


# --- CSV --------------------------------------------------------------------------------------


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: no formula (``=``, ``+``, ``-``, ``@``, tab, CR first)."""
    text = "" if value is None else clean(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _place_cells(p: Place) -> list[object]:
    return [p.code if p.code is not None else p.label, p.kind, ";".join(p.regions), ";".join(p.jurisdictions),
            ";".join(p.countries), p.status, ";".join(p.disallowed_regions)]


def render_csv(inv: Inventory) -> str:
    """One row per data store, then its copies and keys; header :data:`CSV_HEADER`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for e in inv.data_stores:
        base = [e.address, e.type, e.file]
        findings = ";".join(f.rule_id + ("(waived)" if f.waived else "") for f in e.findings)
        rows: list[list[object]] = [["data-store", *base, e.line, e.cloud, *_place_cells(e.place), e.encryption,
                                     "", "", findings, e.exemption or ""]]
        for c in e.copies:
            rows.append(["copy", *base, c.line or e.line, e.cloud, *_place_cells(c.place), "", c.kind, c.via,
                         "", ""])
        for k in e.keys:
            rows.append(["key", *base, e.line, e.cloud, *_place_cells(k.place), "", "", k.via, "", ""])
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
    for f in inv.flows:
        row = ["flow", f.pipe, f.type, f.file, f.line, "", f.destination, "", "", ";".join(f.jurisdictions), "",
               f.status, ";".join(f.disallowed_regions), "", f.what, f.via, "", ""]
        writer.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


# --- Markdown ---------------------------------------------------------------------------------


def render_markdown(inv: Inventory) -> str:
    """A page for a pull request or wiki: summary, the Mermaid map, then the tables."""
    t = inv.totals
    out = ["# Data-residency inventory", ""]
    policy = markdown_code(inv.policy_path) if inv.policy_path else "`--allowed-regions`"
    out.append(f"Policy {policy}: allowed {markdown_code(inv.allowed_regions) or 'nothing'}, "
               f"encryption at least {markdown_code(inv.encryption_minimum)}.")
    out.append("")
    out.append(f"{t['data_stores']} data store(s), {t['copies']} copy target(s), {t['keys']} key(s); "
               f"{t['disallowed_data_stores']} data store(s) and {t['disallowed_copies']} copy target(s) outside "
               f"the allowed regions; {t['unresolved_data_stores'] + t['unresolved_copies']} unresolved.")
    if t["access"]:
        out.append("")
        out.append(f"{t['access']} principal(s) can reach data stores: {t['disallowed_access']} public or outside the "
                   f"allowed locations, {t['unresolved_access']} not placed by the policy.")
    if inv.flows:
        out.append("")
        out.append(f"{t['flows']} pipe destination(s): {t['disallowed_flows']} outside the allowed regions, "
                   f"{t['unresolved_flows']} unresolved.")
    out += ["", "## Map", "",
            "Red arrows and borders: data copied to or placed in a region the policy does not allow. "
            "Dashed arrows: the copy target cannot be resolved statically. Arrows labelled access: a principal "
            "outside the allowed locations or the public (red), or one the policy's principals: does not place "
            "(dashed), can reach the store. Arrows from a store or a pipe (delivery stream, subscription, exporter) "
            "to a destination: where a pipe sends data (RES007), red outside the allowed regions.", "",
            "```mermaid", render_mermaid(inv).rstrip("\n"), "```", ""]

    out += ["## By jurisdiction", ""]
    out.append(markdown_table(
        ["jurisdiction", "data stores", "not allowed", "copies", "copies not allowed"],
        [[j, c["data_stores"], c["disallowed_data_stores"], c["copies"], c["disallowed_copies"]]
         for j, c in inv.by_jurisdiction.items()],
        align=["left", "right", "right", "right", "right"]))
    out += ["", "## By cloud", ""]
    out.append(markdown_table(
        ["cloud", "data stores", "not allowed", "unresolved", "copies", "regions", "jurisdictions"],
        [[cloud, c["data_stores"], c["disallowed_data_stores"], c["unresolved_data_stores"], c["copies"],
          ", ".join(c["regions"]), ", ".join(c["jurisdictions"])] for cloud, c in inv.by_cloud.items()],  # type: ignore[arg-type]
        align=["left", "right", "right", "right", "right"]))

    out += ["", "## Data stores", ""]
    out.append(markdown_table(
        ["data store", "type", "file", "location", "jurisdictions", "countries", "status", "encryption", "findings"],
        [[markdown_code(e.address), e.type, MarkdownText(markdown_text(f"{e.file}:{e.line}")), _where(e.place),
          ", ".join(e.place.jurisdictions), ", ".join(e.place.countries), _status(e.place, e.exemption),
          e.encryption, _findings(e)] for e in inv.data_stores]))

    copies = inv.copies
    if copies:
        out += ["", "## Copies", ""]
        out.append(markdown_table(
            ["data store", "kind", "via", "target", "jurisdictions", "status"],
            [[markdown_code(e.address), c.kind, markdown_code(c.via), _where(c.place), ", ".join(c.place.jurisdictions),
              _status(c.place, None)] for e, c in copies]))
    reach = [(e, a) for e in inv.data_stores for a in e.access]
    if reach:
        out += ["", "## Who can reach each store", "",
                "Principals that a resource policy, IAM member or role assignment lets reach the store, placed "
                "with the policy's `principals:` (RES006).", ""]
        out.append(markdown_table(
            ["data store", "principal", "location", "status", "actions", "grant"],
            [[markdown_code(e.address), markdown_code(a.principal), a.location or a.reason or "-",
              MarkdownText({"disallowed": "**not allowed**", "public": "**public**"}.get(a.status, a.status)),
              ", ".join(a.actions[:4]) + (", ..." if len(a.actions) > 4 else ""),
              MarkdownText(markdown_text(f"{a.grant} ({a.file}:{a.line})"))] for e, a in reach]))
    if inv.flows:
        out += ["", "## Flows", "",
                "Destinations pipes send data to (delivery streams, subscriptions, exporters, agents), judged "
                "like RES007.", ""]
        out.append(markdown_table(
            ["pipe", "from", "destination", "location", "status", "via"],
            [[MarkdownText(markdown_text(f"{f.pipe} ({f.file}:{f.line})")), markdown_code(f.source),
              markdown_code(f.destination), f.location or f.reason or "-",
              MarkdownText({"disallowed": "**not allowed**"}.get(f.status, f.status)), markdown_code(f.via)]
             for f in inv.flows]))
    keys = [(e, k) for e in inv.data_stores for k in e.keys]
    if keys:
        out += ["", "## Keys", ""]
        out.append(markdown_table(
            ["data store", "key", "target", "jurisdictions", "status"],
            [[markdown_code(e.address), markdown_code(k.reference), _where(k.place), ", ".join(k.place.jurisdictions),
              _status(k.place, None)] for e, k in keys]))
    return "\n".join(out).rstrip() + "\n"


def _where(p: Place) -> str:
    if p.code is None:
        return f"{p.label} ({p.reason})" if p.reason else p.label
    return p.label if p.status != UNRESOLVED else f"{p.label} ({p.reason})"


def _status(p: Place, exemption: str | None) -> str:
    text = {DISALLOWED: "**not allowed**"}.get(p.status, p.status)
    if p.status == DISALLOWED and p.disallowed_regions and p.kind not in ("region", "zone"):
        text += f" ({', '.join(markdown_text(r) for r in p.disallowed_regions[:4])}" + (
            ", ..." if len(p.disallowed_regions) > 4 else "") + ")"
    if exemption:
        text += f"; exempt: {markdown_text(exemption)}"
    return MarkdownText(text)


def _findings(e: DataStoreEntry) -> str:
    return ", ".join(f"{f.rule_id} (waived)" if f.waived else f.rule_id for f in e.findings)
