"""Terraform plan JSON (``terraform show -json plan.bin``) -> one :class:`Resource` per planned instance.

A plan is the most faithful input the scanner gets: Terraform has already expanded ``count`` and
``for_each``, evaluated variables and module inputs, and decided what will be created. This loader
scans exactly that and nothing else:

* resources come from ``planned_values`` (root module and nested ``child_modules``), managed mode
  only, with Terraform's own addresses; a resource whose only action in ``resource_changes`` is
  ``delete`` (or ``forget``) is left out, every other action (create, update, no-op, replace) kept.
  Resources that appear only in ``resource_changes`` (a plan without ``planned_values``) or in
  ``deferred_changes`` are read from their ``change.after``;
* values Terraform marks in ``change.after_unknown`` become ``Unknown("known only after apply: <path>")``,
  nested ones too, so a rule can say what it could not see instead of passing it;
* the provider region is not in ``planned_values``: it is read from
  ``configuration.provider_config[<key>].expressions`` through the resource's ``provider_config_key``,
  following ``var.*`` references to the plan's final root ``variables`` and module inputs to the
  parent's ``module_calls`` expressions. Anything else (locals, data sources, environment) is an
  ``Unknown`` with the reason. AWS v6 per-resource ``region`` (and S3's ``bucket_region``) stay in the
  attributes for the catalog, which prefers them to the provider's;
* a plan that says ``errored: true`` is incomplete and proves nothing: the loader reports it and
  loads nothing (fail closed), as it does for a major ``format_version`` it does not know.

Locations: ``Resource.file``/``line`` are the plan file and the line of the resource's ``"address"``
key in ``planned_values`` (read with :mod:`scanner.loaders.jsonpos`; ``terraform show -json`` writes
one line, so pretty-print the plan for useful lines). Findings point there because the plan is what
was scanned. When the HCL source is known (``--source DIR``, or the plan's own directory when it
holds ``.tf`` files) each resource is also mapped to its ``resource`` block:
``extra["source_file"]``/``extra["source_line"]`` and ``extra["comments"]`` (the comments inside the
block and the run of comment-only lines directly above it), so inline waivers written in the
source apply to plan scans the same way they apply to HCL scans. Root-module resources are mapped,
and module resources when the module source is a local path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scanner.discover import rel
from scanner.loaders.azapi import translate_azapi
from scanner.loaders.jsonpos import JsonPath, loads_with_lines
from scanner.model import (
    DESTINATION_SETTINGS,
    Category,
    LoadResult,
    Note,
    Problem,
    ProviderContext,
    Ref,
    Resource,
    Unknown,
)


def _sub(obj: Any, key: str) -> dict[str, Any]:
    """``obj[key]`` when it is a mapping, else an empty one: manifests and plans are untrusted shapes."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}

MAX_PLAN_BYTES = 512 * 2**20
_KEEP_ACTIONS = frozenset({"create", "update", "no-op"})
_SUPPORTED_MAJORS = (0, 1)  # 0.x: Terraform 0.12-1.0; 1.x: 1.1 onwards (minor bumps are compatible)
_REGION_PROVIDERS = frozenset({"aws", "google", "google-beta"})
_ZONE_PROVIDERS = frozenset({"google", "google-beta"})
_AWS_DEFAULTED = frozenset({"region", "bucket_region"})  # top level only; see _Unknowns
_AWS_DEFAULT_KEYS = frozenset({"kms_key_id", "kms_key_arn"})  # at any depth; see _Unknowns
# Optional+Computed attributes a plan shows as unknown on create when the configuration leaves them unset; an
# HCL scan reads them as absent, and the catalog applies the provider default (issue 16 step 2: parity):
# SQS SSE-SQS on by default, EBS `encrypted` from the account's aws_ebs_encryption_by_default, a GCE boot disk's
# and a Cloud SQL instance's Google-managed key. At any depth; see _Unknowns.
_TYPE_DEFAULT_KEYS: dict[str, frozenset[str]] = {
    "aws_sqs_queue": frozenset({"sqs_managed_sse_enabled"}),
    "aws_ebs_volume": frozenset({"encrypted"}),
    "google_compute_instance": frozenset({"kms_key_self_link"}),
    "google_sql_database_instance": frozenset({"encryption_key_name"}),
}
_SOURCE_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
_MAX_DEPTH = 32  # module nesting / variable chains: far beyond real configurations, stops cycles

_REMEDIATION_PARSE = "Produce the plan with `terraform show -json plan.bin > plan.json` and scan that file."


class _Malformed(Exception):
    """The JSON is valid but not shaped like a plan; reported at the path's line, nothing loaded."""

    def __init__(self, path: JsonPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# --- entry points -----------------------------------------------------------------------------


def load_plan(path: Path, scan_root: Path, source_dir: Path | None = None,
              max_bytes: int = MAX_PLAN_BYTES) -> LoadResult:
    """Load one plan file. The size is checked before reading, so a huge file costs nothing.

    ``source_dir`` defaults to the plan's own directory when it holds Terraform files, which is
    where ``terraform plan`` was most likely run.
    """
    name = rel(path, scan_root)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _failed(name, 1, _too_big(size, max_bytes))
        data = path.read_bytes()
    except OSError as exc:
        return LoadResult(problems=[Problem(Category.PARSE, name, 1, f"cannot read plan: {exc.strerror}",
                                            "Make the file readable by the scanner.")], files=1)
    if source_dir is None and _holds_terraform(path.parent):
        source_dir = path.parent
    return load_plan_bytes(data, name, scan_root, source_dir=source_dir, max_bytes=max_bytes)


def load_plan_bytes(data: bytes, name: str, scan_root: Path, source_dir: Path | None = None,
                    max_bytes: int = MAX_PLAN_BYTES) -> LoadResult:
    """Load a plan given as bytes (stdin, or a file already read); ``name`` is what reports show."""
    if len(data) > max_bytes:
        return _failed(name, 1, _too_big(len(data), max_bytes))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failed(name, data[: exc.start].count(b"\n") + 1, f"plan is not UTF-8 text: {exc.reason}")
    try:
        doc, lines = loads_with_lines(text, _descend)
    except json.JSONDecodeError as exc:
        return _failed(name, exc.lineno, f"plan is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})")
    except RecursionError:
        return _failed(name, 1, "plan JSON is nested too deeply to read")
    try:
        result = _Plan(doc, lines, name, scan_root, source_dir).load()
        translate_azapi(result.resources)  # azapi_resource -> the azurerm type the catalog knows, as for HCL
        return result
    except _Malformed as exc:
        return _failed(name, _line(lines, exc.path), exc.message)


def _failed(name: str, line: int, message: str) -> LoadResult:
    return LoadResult(problems=[Problem(Category.PARSE, name, max(line, 1), message, _REMEDIATION_PARSE)], files=1)


def _too_big(size: int, limit: int) -> str:
    return f"plan file is {size} bytes, over the {limit}-byte limit for plans; not scanned"


def _holds_terraform(directory: Path) -> bool:
    try:
        return any(p.name.endswith(_SOURCE_SUFFIXES) and p.is_file() for p in directory.iterdir())
    except OSError:
        return False


def _descend(path: JsonPath) -> bool | str:
    """Which containers :func:`loads_with_lines` records lines for: the resource skeleton.

    Resource and change entries need only the line of their ``"address"`` key ("address").
    """
    if len(path) <= 1:
        return True  # the document, and the top-level containers themselves
    head = path[0]
    if head in ("resource_changes", "deferred_changes"):
        return "address" if len(path) == 2 and head == "resource_changes" else len(path) == 2
    if head == "planned_values" and path[1] == "root_module":
        return _module_skeleton(path[2:])
    return False


def _module_skeleton(rest: JsonPath) -> bool | str:
    if not rest:
        return True
    if rest[0] in ("resources", "child_modules"):
        if len(rest) == 1:
            return True
        if isinstance(rest[1], int):
            if rest[0] == "resources":
                return "address" if len(rest) == 2 else False
            return _module_skeleton(rest[2:])
    return False


def _line(lines: dict[JsonPath, int], path: JsonPath) -> int:
    """The line of ``path`` or of its nearest recorded ancestor."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1


# --- the plan ---------------------------------------------------------------------------------


class _Plan:
    def __init__(self, doc: Any, lines: dict[JsonPath, int], name: str, scan_root: Path,
                 source_dir: Path | None) -> None:
        self.doc = doc
        self.lines = lines
        self.name = name
        self.scan_root = scan_root
        self.source_dir = source_dir
        self.result = LoadResult(files=1)

    def load(self) -> LoadResult:
        doc = self.doc
        if not isinstance(doc, dict):
            raise _Malformed((), "not a Terraform plan: the JSON is not an object")
        self._check_version()
        if "planned_values" not in doc and "resource_changes" not in doc:
            raise _Malformed((), "not a Terraform plan: neither planned_values nor resource_changes "
                                 "(a state file from `terraform show -json` without a plan is not scanned)")
        if doc.get("errored") is True:
            raise _Malformed(("errored",), "the plan is incomplete (errored: true); an incomplete plan proves "
                                           "nothing, so none of it was scanned")
        if doc.get("complete") is False:
            self.result.notes.append(Note(self.name, "the plan is not complete (complete: false): some changes "
                                          "are deferred to a later plan and are scanned only as far as known"))
        config = _Config(_obj(doc, "configuration", ("configuration",)), _obj(doc, "variables", ("variables",)))
        sources = (_SourceMap(self.source_dir, self.scan_root, config, self.result, self.name)
                   if self.source_dir else None)
        changes = self._changes(_arr(doc, "resource_changes", ("resource_changes",)), ("resource_changes",))
        planned = list(self._planned())
        for address in [*(_address(e, m, p) for e, m, p in planned), *changes]:
            config.instances.setdefault(_INDEX_TAIL.sub("", address), set()).add(address)
        seen: set[str] = set()
        for entry, module_address, path in planned:
            address = _address(entry, module_address, path)
            if entry.get("mode", "managed") != "managed" or address in seen:
                continue
            seen.add(address)
            change = changes.get(address)
            actions = _actions(change)
            if actions is not None and not _KEEP_ACTIONS.intersection(actions):
                continue  # delete-only (or forget): this plan does not leave it running
            values = entry.get("values")
            self._emit(entry, address, module_address, path, values, change, actions, config, sources)
        for address, change in changes.items():
            actions = _actions(change)
            if address in seen or not _KEEP_ACTIONS.intersection(actions or ()):
                continue
            seen.add(address)
            path = change["__path"]
            after = (change.get("change") or {}).get("after")
            self._emit(change, address, change.get("module_address") or "", path, after, change, actions,
                       config, sources)
        deferred = self._changes(_arr(doc, "deferred_changes", ("deferred_changes",)), ("deferred_changes",),
                                 inner="resource_change")
        for address, change in deferred.items():
            actions = _actions(change)
            if address in seen or not _KEEP_ACTIONS.intersection(actions or ()):
                continue
            seen.add(address)
            after = (change.get("change") or {}).get("after")
            resource = self._emit(change, address, change.get("module_address") or "", change["__path"], after,
                                  change, actions, config, sources)
            resource.extra["deferred"] = change.get("__reason") or True
            self.result.notes.append(Note(self.name, f"{address}: change deferred by Terraform "
                                          f"({change.get('__reason') or 'no reason given'}); scanned as planned so far",
                                          address))
        return self.result

    def _check_version(self) -> None:
        version = self.doc.get("format_version")
        m = re.match(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
        if m is None:
            raise _Malformed(("format_version",), f"not a Terraform plan: format_version {version!r} is not "
                                                  "a version like \"1.2\"")
        if int(m.group(1)) not in _SUPPORTED_MAJORS:
            raise _Malformed(("format_version",), f"unsupported plan format {version} (this scanner reads "
                                                  "format 1.x); a new major version may change meanings")

    def _planned(self) -> Iterator[tuple[dict[str, Any], str, JsonPath]]:
        """(entry, module address, json path) for every resource entry in planned_values, in order."""
        planned = _obj(self.doc, "planned_values", ("planned_values",))
        root = _obj(planned, "root_module", ("planned_values", "root_module"))
        stack: list[tuple[dict[str, Any], str, JsonPath, int]] = [(root, "", ("planned_values", "root_module"), 0)]
        while stack:
            module, module_address, path, depth = stack.pop(0)
            if depth > _MAX_DEPTH:
                raise _Malformed(path, "planned_values nests modules deeper than any configuration can")
            for i, entry in enumerate(_arr(module, "resources", (*path, "resources"))):
                if not isinstance(entry, dict):
                    raise _Malformed((*path, "resources", i), "malformed plan: a resource entry is not an object")
                yield entry, module_address, (*path, "resources", i)
            children = _arr(module, "child_modules", (*path, "child_modules"))
            for j, child in enumerate(children):
                child_path = (*path, "child_modules", j)
                if not isinstance(child, dict):
                    raise _Malformed(child_path, "malformed plan: a child module entry is not an object")
                stack.insert(j, (child, str(child.get("address") or ""), child_path, depth + 1))

    def _changes(self, items: list[Any], path: JsonPath, inner: str | None = None) -> dict[str, dict[str, Any]]:
        """Managed, current (not deposed) changes by address; each keeps its JSON path for its line."""
        out: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise _Malformed((*path, i), "malformed plan: a change entry is not an object")
            change: Any = item
            if inner is not None:
                change = item.get(inner)
                if not isinstance(change, dict):
                    continue
                change = {**change, "__reason": item.get("reason")}
            if change.get("mode", "managed") != "managed" or change.get("deposed"):
                continue
            if not isinstance(change.get("change", {}), dict):
                raise _Malformed((*path, i), "malformed plan: a change's `change` is not an object")
            address = _address(change, change.get("module_address") or "", (*path, i))
            out.setdefault(address, {**change, "__path": (*path, i)})
        return out

    def _emit(self, entry: dict[str, Any], address: str, module_address: str, path: JsonPath, values: Any,
              change: dict[str, Any] | None, actions: list[str] | None, config: _Config,
              sources: _SourceMap | None) -> Resource:
        rtype = entry.get("type")
        rname = entry.get("name")
        if not isinstance(rtype, str) or not isinstance(rname, str):
            raise _Malformed(path, f"malformed plan: resource {address} has no type or name")
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise _Malformed(path, f"malformed plan: the values of {address} are not an object")
        unknown = ((change or {}).get("change") or {}).get("after_unknown")
        names = _module_names(module_address)
        config_resource = config.resource(names, f"{rtype}.{rname}")
        exprs = (config_resource or {}).get("expressions") or {}
        marker = _Unknowns(config, names, module_address, known_config=config_resource is not None,
                           aws=rtype.startswith("aws_"), rtype=rtype)
        attributes = marker.mark(values, unknown, "", exprs) if _has_true(unknown) else values
        key = (config_resource or {}).get("provider_config_key")
        if not isinstance(key, str) or not key:
            local = _local_name(entry.get("provider_name"), rtype)
            key = _key(names, local, None)
        line = self.lines.get((*path, "address")) or _line(self.lines, path)
        resource = Resource(type=rtype, address=address, file=self.name, line=line, attributes=attributes,
                            source="plan", provider=config.provider(key, names))
        resource.extra["provider_config_key"] = key
        if config_resource is not None:
            resource.extra["configured_arguments"] = sorted(exprs)
        if actions is not None:
            resource.extra["actions"] = list(actions)
        if sources is not None:
            sources.annotate(resource, names, rtype, rname)
        self.result.resources.append(resource)
        return resource


def _obj(parent: Any, key: str, path: JsonPath) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(path, f"malformed plan: {'.'.join(map(str, path))} is not an object")
    return value


def _arr(parent: Any, key: str, path: JsonPath) -> list[Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(path, f"malformed plan: {'.'.join(map(str, path))} is not a list")
    return value


def _actions(change: dict[str, Any] | None) -> list[str] | None:
    if change is None:
        return None
    actions = (change.get("change") or {}).get("actions")
    if not isinstance(actions, list):
        raise _Malformed(change.get("__path", ()), "malformed plan: a change has no actions list")
    return [a for a in actions if isinstance(a, str)]


def _address(entry: dict[str, Any], module_address: str, path: JsonPath) -> str:
    """The entry's own address; rebuilt from its parts (as Terraform prints them) when absent."""
    address = entry.get("address")
    if isinstance(address, str) and address:
        return address
    rtype, rname = entry.get("type"), entry.get("name")
    if not isinstance(rtype, str) or not isinstance(rname, str):
        raise _Malformed(path, "malformed plan: a resource entry has neither address nor type and name")
    prefix = "data." if entry.get("mode") == "data" else ""
    out = f"{module_address + '.' if module_address else ''}{prefix}{rtype}.{rname}"
    if "index" in entry:
        index = entry["index"]
        out += f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"
    return out


class _Unknowns:
    """Turns what ``after_unknown`` marks ``true`` into an Unknown (or a Ref) for one resource.

    The configuration says what the marked attribute was written as: a reference to one other
    resource's attribute becomes ``Ref(address, attribute)`` as the HCL loader gives it (so the
    catalog can still join a bucket to its replication target or key); an attribute the
    configuration does not set is computed by the provider, and the reason says so. Both stay
    unknown to a rule that needs the value: nothing here is guessed.

    One exception, for parity with an HCL scan of the same code: a few AWS attributes that are
    Optional+Computed scalars mean "the provider's default" when the configuration does not set
    them, and a plan shows exactly those as unknown on create. They are left out, as an HCL scan
    has them, instead of every new resource being "unresolved": the top-level ``region`` (v5's
    computed S3 attribute, v6's per-resource one) and S3's ``bucket_region`` (both the provider
    configuration's region) and ``kms_key_id``/``kms_key_arn`` at any depth (the AWS-managed or
    account-default key). Only when the enclosing configuration block is known and does not set
    them: a block generated by ``dynamic`` is absent from the plan's configuration, so inside one
    nothing is dropped. Names only, never blocks: an unknown ``dynamic`` block looks the same as an
    unknown scalar in ``after_unknown``.
    """

    def __init__(self, config: _Config, names: tuple[str, ...], module_address: str, known_config: bool,
                 aws: bool = False, rtype: str = "") -> None:
        self.top_defaulted = _AWS_DEFAULTED if aws and known_config else frozenset()
        any_defaulted = (_AWS_DEFAULT_KEYS if aws else frozenset()) | _TYPE_DEFAULT_KEYS.get(rtype, frozenset())
        self.any_defaulted = any_defaulted if known_config else frozenset()
        self.config = config
        self.names = names
        self.module_address = module_address
        self.known_config = known_config

    def mark(self, value: Any, mask: Any, path: str, exprs: Any) -> Any:
        if mask is True:
            return self.leaf(path, exprs)
        if isinstance(mask, dict) and (isinstance(value, dict) or value is None):
            out = dict(value or {})
            for key, sub in mask.items():
                if sub is True and self._defaulted(key, path, exprs):
                    out.pop(key, None)  # the provider's default, as an HCL scan has it
                    continue
                if _has_true(sub):
                    child = _step(exprs, key)
                    if child is None and self.known_config and _block(exprs) is not None:
                        child = _NOT_SET  # the configuration shows this block and it does not set the key
                    out[key] = self.mark(out.get(key), sub, f"{path}.{key}" if path else key, child)
            return out
        if isinstance(mask, list) and (isinstance(value, list) or value is None):
            items = list(value or [])
            for i, sub in enumerate(mask):
                if not _has_true(sub):
                    continue
                while len(items) <= i:
                    items.append(None)
                items[i] = self.mark(items[i], sub, f"{path}[{i}]", _step(exprs, i))
            return items
        return value

    def _defaulted(self, key: str, path: str, exprs: Any) -> bool:
        if key not in self.any_defaulted and (path or key not in self.top_defaulted):
            return False
        block = _block(exprs)
        return block is not None and key not in block

    def leaf(self, path: str, exprs: Any) -> Unknown | Ref:
        where = path or "the whole value"
        if _is_expression(exprs):
            refs = [r for r in exprs.get("references") or () if isinstance(r, str)]
            ref = self.ref(refs)
            if ref is not None:
                return ref
            if refs:
                return Unknown(f"known only after apply: {where} (from {', '.join(sorted(set(refs)))})")
        elif exprs is _NOT_SET:
            return Unknown(f"known only after apply: {where} (computed by the provider; not set in the configuration)")
        return Unknown(f"known only after apply: {where}")

    def ref(self, refs: list[str], depth: int = 0) -> Ref | None:
        if not refs or depth > _MAX_DEPTH:
            return None
        longest = max(refs, key=len)
        if any(not (longest == r or longest.startswith(r + ".") or longest.startswith(r + "[")) for r in refs):
            return None
        out = _MODULE_OUTPUT_REF.fullmatch(longest)
        if out is not None:
            return self._module_output(out.group(1), out.group(2), depth)
        m = _RESOURCE_REF.match(longest)
        if m is None or m.group(1) in _NOT_RESOURCES or "_" not in m.group(1):
            return None
        rtype, rname, index, attribute = m.groups()
        target = self.config.resource(self.names, f"{rtype}.{rname}")
        repeated = target is not None and ("count_expression" in target or "for_each_expression" in target)
        prefix = f"{self.module_address}." if self.module_address else ""
        if repeated and not index:
            # a splat or the whole collection (`join("", aws_s3_bucket.x[*].arn)`): the plan records only
            # `aws_s3_bucket.x`; with one planned instance that is the value, as the source scan reads it
            instances = self.config.instances.get(f"{prefix}{rtype}.{rname}", set())
            if len(instances) != 1:
                return None  # none or several: no single instance to join to
            return Ref(next(iter(instances)), attribute or "")
        # Terraform 0.12 plans record a bare `aws_kms_key.k` (no attribute): it still names that resource
        return Ref(f"{prefix}{rtype}.{rname}{index}", attribute or "")

    def _module_output(self, call: str, output: str, depth: int) -> Ref | None:
        """``module.kms.key_arn`` (terraform-aws-modules/kms): the output's own ``expression.references``
        in the called module's configuration, followed into it (a call with count/for_each has no single
        instance to follow)."""
        names = (*self.names, call)
        call_config = self.config.calls.get(names)
        if call_config is None or "count_expression" in call_config or "for_each_expression" in call_config:
            return None
        outputs = _sub(call_config.get("module"), "outputs")
        expression = _sub(outputs.get(output), "expression")
        refs = [r for r in expression.get("references") or () if isinstance(r, str)]
        prefix = f"{self.module_address}." if self.module_address else ""
        inner = _Unknowns(self.config, names, f"{prefix}module.{call}", self.known_config)
        return inner.ref(refs, depth + 1)


_RESOURCE_REF = re.compile(r'([A-Za-z][\w-]*)\.([A-Za-z_][\w-]*)'  # type.name
                           r'((?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?)'  # [0] / ["key"]
                           r'(?:\.([A-Za-z_][\w-]*))?')  # .attribute (absent in Terraform 0.12 plans)
_INDEX_TAIL = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')  # the instance key ending an address
_MODULE_OUTPUT_REF = re.compile(r'module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)')  # module.kms.key_arn
_NOT_RESOURCES = frozenset({"var", "local", "data", "module", "each", "count", "path", "self", "terraform"})


_NOT_SET = object()  # marks "the configuration shows the enclosing block, and this key is not in it"


def _block(exprs: Any) -> dict[str, Any] | None:
    """The configuration block ``exprs`` stands for, when it is one (not an expression, not unknown)."""
    block = exprs[0] if isinstance(exprs, list) and len(exprs) == 1 else exprs
    return block if isinstance(block, dict) and not _is_expression(block) else None


def _is_expression(node: Any) -> bool:
    return isinstance(node, dict) and ("constant_value" in node or "references" in node)


def _step(exprs: Any, key: str | int) -> Any:
    """The configuration expression for one step down, parallel to the values (blocks are lists)."""
    if _is_expression(exprs):
        return exprs  # an attribute written as one expression: it covers everything below it
    if isinstance(key, int):
        if isinstance(exprs, list):
            return exprs[key] if key < len(exprs) else None
        return exprs if isinstance(exprs, dict) and key == 0 else None  # single nesting: one object
    if isinstance(exprs, list):
        exprs = exprs[0] if len(exprs) == 1 else None
    return exprs.get(key) if isinstance(exprs, dict) else None


def _has_true(mask: Any) -> bool:
    if mask is True:
        return True
    if isinstance(mask, dict):
        return any(_has_true(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_has_true(v) for v in mask)
    return False


# --- addresses and provider keys --------------------------------------------------------------

_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?\.?')
_REF_STEP = re.compile(r'\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _module_names(address: str) -> tuple[str, ...]:
    """``module.a[0].module.b["x"]`` -> ``("a", "b")``: the configuration path without instance keys."""
    names: list[str] = []
    pos = 0
    while address.startswith("module.", pos):
        m = _MODULE_STEP.match(address, pos)
        if m is None:
            break
        names.append(m.group(1))
        pos = m.end()
    return tuple(names)


def _key(names: tuple[str, ...], local: str, alias: str | None) -> str:
    """Terraform's ``opaqueProviderKey``: ``aws.eu`` at the root, ``module.a.module.b:aws.eu`` below."""
    ref = f"{local}.{alias}" if alias else local
    return f"{'.'.join('module.' + n for n in names)}:{ref}" if names else ref


def _split_key(key: str, own: tuple[str, ...]) -> tuple[tuple[str, ...], str, str | None]:
    """Parse a provider key into (module path, local name, alias), accepting the older call-name form."""
    prefix, sep, ref = key.rpartition(":")
    names: tuple[str, ...] = ()
    if sep:
        if prefix.startswith("module."):
            names = _module_names(prefix)
        elif own and own[-1] == prefix:
            names = own  # older Terraform: "<call name>:aws" for the module the resource sits in
        else:
            names = tuple(prefix.split("."))
    local, dot, alias = ref.partition(".")
    return names, local, alias if dot else None


def _local_name(provider_name: Any, rtype: str) -> str:
    """The provider local name when the configuration does not say: the type's prefix, as Terraform does."""
    if isinstance(provider_name, str) and provider_name:
        last = provider_name.rsplit("/", 1)[-1]
        if rtype.startswith(last + "_"):
            return last
    return rtype.split("_", 1)[0]


def _display(names: tuple[str, ...], local: str, alias: str | None) -> str:
    ref = f"{local}.{alias}" if alias else local
    return f"{'.'.join('module.' + n for n in names)}:{ref}" if names else ref


# --- configuration: provider regions through variables ----------------------------------------


class _Config:
    """``configuration`` indexed by module path, and the evaluation of the few expressions we need."""

    def __init__(self, configuration: dict[str, Any], variables: dict[str, Any]) -> None:
        self.providers: dict[str, Any] = configuration.get("provider_config") or {}
        if not isinstance(self.providers, dict):
            raise _Malformed(("configuration",), "malformed plan: configuration.provider_config is not an object")
        self.variables = variables
        self.modules: dict[tuple[str, ...], dict[str, Any]] = {}
        self.calls: dict[tuple[str, ...], dict[str, Any]] = {}
        self._resources: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
        # resource address without its instance key -> the planned instances (set by _Plan.load)
        self.instances: dict[str, set[str]] = {}
        self._contexts: dict[tuple[str, tuple[str, ...]], ProviderContext] = {}
        root = configuration.get("root_module")
        stack: list[tuple[tuple[str, ...], Any]] = [((), root if isinstance(root, dict) else {})]
        while stack:
            names, module = stack.pop()
            if not isinstance(module, dict) or len(names) > _MAX_DEPTH:
                continue
            self.modules[names] = module
            calls = module.get("module_calls")
            for call_name, call in (calls.items() if isinstance(calls, dict) else ()):
                if isinstance(call, dict):
                    self.calls[(*names, call_name)] = call
                    stack.append(((*names, call_name), call.get("module")))

    def resource(self, names: tuple[str, ...], config_address: str) -> dict[str, Any] | None:
        index = self._resources.get(names)
        if index is None:
            entries = self.modules.get(names, {}).get("resources")
            index = (
                {str(r.get("address")): r for r in entries if isinstance(r, dict)} if isinstance(entries, list) else {}
            )
            self._resources[names] = index
        return index.get(config_address)

    def provider(self, key: str, own: tuple[str, ...]) -> ProviderContext:
        cached = self._contexts.get((key, own))
        if cached is None:
            cached = self._contexts[(key, own)] = self._resolve_provider(key, own)
        return cached

    def _entry(self, names: tuple[str, ...], local: str, alias: str | None, raw: str | None) -> dict[str, Any] | None:
        ref = f"{local}.{alias}" if alias else local
        for key in (raw, _key(names, local, alias), f"{names[-1]}:{ref}" if names else None):
            if key is not None and isinstance(self.providers.get(key), dict):
                return self.providers[key]
        return None

    def _resolve_provider(self, key: str, own: tuple[str, ...]) -> ProviderContext:
        """Find the configuration a key names, walking up for implicitly inherited default providers.

        Terraform normalises keys of passed providers to the parent's configuration, so most keys are
        found directly. A module-level entry without expressions is a ``required_providers``
        placeholder (or an empty block): the default configuration is inherited from the parent, so
        walk up. An aliased one cannot be inherited implicitly, and the plan does not record a
        module call's ``providers`` map: that is an Unknown, not a guess.
        """
        names, local, alias = _split_key(key, own)
        start = names
        raw: str | None = key
        while True:
            entry = self._entry(names, local, alias, raw)
            raw = None
            if entry is not None and (entry.get("expressions") or not names):
                return self._context(entry, names, local, alias, inherited_by=start if names != start else ())
            if not names:
                return self._context({}, (), local, alias, inherited_by=start, implicit=True)
            if alias is not None:
                reason = (f"provider configuration {_display(names, local, alias)} is not in the plan "
                          "configuration: it is passed from a parent module under a name the plan does not record")
                return ProviderContext(local, alias, region=Unknown(reason) if local in _REGION_PROVIDERS else None,
                                       zone=Unknown(reason) if local in _ZONE_PROVIDERS else None,
                                       source=f"provider {_display(names, local, alias)} (plan configuration)")
            names = names[:-1]

    def _context(self, entry: dict[str, Any], names: tuple[str, ...], local: str, alias: str | None,
                 inherited_by: tuple[str, ...], implicit: bool = False) -> ProviderContext:
        raw_name, raw_alias = entry.get("name"), entry.get("alias")
        name: str = raw_name if isinstance(raw_name, str) else local
        alias = raw_alias if isinstance(raw_alias, str) and raw_alias else alias
        display = _display(names, name, alias)
        expressions = _sub(entry, "expressions")
        how = "implicit default configuration" if implicit else "plan configuration"
        if inherited_by:
            how += f", inherited by {'.'.join('module.' + n for n in inherited_by)}"
        vias: list[str] = []

        def setting(arg: str) -> str | Unknown:
            expr = expressions.get(arg)
            if expr is None:
                return Unknown(f"provider {display} has no {arg} in the plan configuration "
                               "(it came from the environment)")
            value, via = self.evaluate(expr, names, f"provider {display} {arg}")
            if via:
                vias.append(f"{arg} = {via}")
            if value is None:
                return Unknown(f"provider {display} {arg} is null in the plan configuration "
                               "(it came from the environment)")
            if isinstance(value, Unknown | str):
                return value
            return Unknown(f"provider {display} {arg} is {value!r}, not a string")

        region = setting("region") if name in _REGION_PROVIDERS else None
        if name in DESTINATION_SETTINGS and DESTINATION_SETTINGS[name][0] == "region" and "region" in expressions:
            # optional, with a documented default (newrelic: US): without it the region reads as the HCL
            # loader reads it, None (the rule applies the default), not "from the environment"
            region = setting("region")
        zone = setting("zone") if name in _ZONE_PROVIDERS else None
        tags = self._default_tags(expressions, names, display) if name == "aws" else None
        settings = ({arg: self.evaluate(expr, names, f"provider {display} {arg}")[0]
                     for arg, expr in expressions.items()
                     if isinstance(expr, dict) and arg not in ("alias", "region", "zone")}  # a block is a list
                    if name in DESTINATION_SETTINGS else {})  # as the HCL loader: only where a setting places data
        if vias:
            how += ", " + ", ".join(vias)
        return ProviderContext(name=name, alias=alias, region=region, zone=zone,
                               source=f"provider {display} ({how})", default_tags=tags, settings=settings)

    def _default_tags(self, expressions: dict[str, Any], names: tuple[str, ...],
                      display: str) -> dict[str, Any] | Unknown | None:
        block = expressions.get("default_tags")
        if isinstance(block, list):
            block = block[0] if block else None
        if not isinstance(block, dict) or "tags" not in block:
            return None
        value, _ = self.evaluate(block["tags"], names, f"provider {display} default_tags")
        if value is None or isinstance(value, Unknown | dict):
            return value
        return Unknown(f"provider {display} default_tags.tags is not a map")

    def evaluate(self, expr: Any, names: tuple[str, ...], what: str, depth: int = 0) -> tuple[Any, str]:
        """An expression from ``configuration``: a constant, or one ``var.*`` reference followed up.

        The plan records only which names an expression references, not the expression itself, so
        ``region = var.region`` and ``region = "${var.region}"`` look alike (both are the variable's
        value) and that is what we take. More than one reference, or ``local.*``, ``data.*``,
        ``module.*`` or a resource attribute, is an Unknown that names it.
        """
        if not isinstance(expr, dict):
            return Unknown(f"{what} is not recorded in the plan configuration"), ""
        if "constant_value" in expr:
            return expr["constant_value"], ""
        refs = [r for r in expr.get("references") or () if isinstance(r, str)]
        if not refs:
            return Unknown(f"{what} is an expression the plan configuration does not record a value for"), ""
        longest = max(refs, key=len)
        if any(not (longest == r or longest.startswith(r + ".") or longest.startswith(r + "[")) for r in refs):
            return Unknown(f"{what} combines {', '.join(sorted(set(refs)))}; the plan does not evaluate it"), ""
        m = re.match(r"var\.([A-Za-z_][\w-]*)", longest)
        if m is None:
            return Unknown(f"{what} comes from {longest}, which the plan configuration does not evaluate"), ""
        if depth > _MAX_DEPTH:
            return Unknown(f"{what}: variable chain through module inputs is too deep"), ""
        value, chain = self._variable(m.group(1), names, what, depth)
        value = _follow(value, longest[m.end():], longest)
        where = f"{'.'.join('module.' + n for n in names)}." if names else ""
        return value, f"{where}{longest}" + (f" = {chain}" if chain else "")

    def _variable(self, name: str, names: tuple[str, ...], what: str, depth: int) -> tuple[Any, str]:
        """A variable's value in a module: the root's final value, or the module call's input."""
        if not names:
            entry = self.variables.get(name)
            if isinstance(entry, dict) and "value" in entry:
                return entry["value"], ""
            decl = (self.modules.get((), {}).get("variables") or {}).get(name)
            if isinstance(decl, dict) and "default" in decl:
                return decl["default"], ""
            return Unknown(f"{what} comes from var.{name}, which has no value in the plan"), ""
        call = self.calls.get(names) or {}
        expressions = _sub(call, "expressions")
        if name in expressions:
            return self.evaluate(expressions[name], names[:-1], f"{what} (module input {name})", depth + 1)
        decl = (self.modules.get(names, {}).get("variables") or {}).get(name)
        if isinstance(decl, dict) and "default" in decl:
            return decl["default"], "default"
        module = ".".join("module." + n for n in names)
        return Unknown(f"{what} comes from {module} input var.{name}, "
                       "which has no value in the plan configuration"), ""


def _follow(value: Any, steps: str, ref: str) -> Any:
    """Apply ``.attr`` / ``[0]`` / ``["key"]`` steps of a reference to a variable's value."""
    pos = 0
    while pos < len(steps) and not isinstance(value, Unknown):
        m = _REF_STEP.match(steps, pos)
        if m is None:
            return Unknown(f"cannot follow {ref} in the plan")
        pos = m.end()
        attr, index, key = m.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return Unknown(f"{ref} does not exist in the variable's value")
            value = value[int(index)]
        else:
            k = attr if attr is not None else json.loads(key)
            if not isinstance(value, dict) or k not in value:
                return Unknown(f"{ref} does not exist in the variable's value")
            value = value[k]
    return value


# --- mapping to HCL source --------------------------------------------------------------------


class _SourceMap:
    """Resource address -> its ``resource`` block in the HCL source, for waivers and for readers."""

    def __init__(self, root: Path, scan_root: Path, config: _Config, result: LoadResult, plan_name: str) -> None:
        self.root = Path(os.path.abspath(root))
        self.plan_name = plan_name
        self.scan_root = scan_root
        self.config = config
        self.result = result
        self._dirs: dict[tuple[str, ...], Path | None] = {}
        self._blocks: dict[Path, dict[tuple[str, str], tuple[str, Any, list[tuple[int, str]], list[str]]]] = {}

    def directory(self, names: tuple[str, ...]) -> Path | None:
        """The module's directory when every call on the way has a local source (``./``, ``../``)."""
        if not names:
            return self.root
        if names not in self._dirs:
            parent = self.directory(names[:-1])
            call = self.config.calls.get(names) or {}
            source = call.get("source") or call.get("resolved_source")
            local = isinstance(source, str) and source.startswith(("./", "../", ".\\", "..\\"))
            self._dirs[names] = (
                Path(os.path.normpath(parent / source)) if parent is not None and local and source else None
            )
        return self._dirs[names]

    def annotate(self, resource: Resource, names: tuple[str, ...], rtype: str, rname: str) -> None:
        directory = self.directory(names)
        resource.root_dir = rel(self.root, self.scan_root)
        if directory is None:
            return
        resource.module_dir = rel(directory, self.scan_root)
        found = self._index(directory).get((rtype, rname))
        if found is None:
            return
        filename, block, comments, text_lines = found
        resource.extra["source_file"] = filename
        resource.extra["source_line"] = block.line
        resource.extra["source_end_line"] = block.end_line
        resource.extra["comments"] = _block_comments(block.line, block.end_line, comments, text_lines)

    def _index(self, directory: Path) -> dict[tuple[str, str], tuple[str, Any, list[tuple[int, str]], list[str]]]:
        index = self._blocks.get(directory)
        if index is not None:
            return index
        from scanner.loaders.hcl_parse import ParseError, parse_file  # lazy: start-up (python-hcl2, lark)

        index = {}
        try:
            files = sorted(p for p in directory.iterdir() if p.name.endswith(_SOURCE_SUFFIXES) and p.is_file())
        except OSError:
            files = []
        # override files only amend blocks declared elsewhere: a block's home is its first plain file
        files.sort(key=lambda p: p.name.removesuffix(".json").endswith(("override.tf", "override.tofu")))
        for path in files:
            filename = rel(path, self.scan_root)
            try:
                text = path.read_text(encoding="utf-8-sig")
                parsed = parse_file(text, filename)
            except (OSError, UnicodeDecodeError, ParseError) as exc:
                self.result.notes.append(Note(self.plan_name, f"source {filename} not read for waivers and "
                                              f"source lines: {exc}"))
                continue
            text_lines = text.splitlines()
            for block in parsed.blocks:
                if block.type == "resource" and len(block.labels) == 2:
                    index.setdefault((block.labels[0], block.labels[1]), (filename, block, parsed.comments, text_lines))
        self._blocks[directory] = index
        return index


def _block_comments(start: int, end: int, comments: list[tuple[int, str]],
                    text_lines: list[str]) -> list[tuple[int, str]]:
    """Comments inside the block, plus the unbroken run of comment-only lines right above it."""
    inside = [(ln, t) for ln, t in comments if start <= ln <= end]
    covering: dict[int, tuple[int, str]] = {}
    for ln, t in comments:
        for covered in range(ln, ln + t.count("\n") + 1):
            covering.setdefault(covered, (ln, t))
    above: list[tuple[int, str]] = []
    ln = start - 1
    while ln >= 1 and ln in covering:
        first, t = covering[ln]
        source = text_lines[first - 1].lstrip() if first - 1 < len(text_lines) else ""
        if not source.startswith(t[:2]) and not source.startswith("#"):
            break  # a comment trailing code on that line belongs to the code, not to this block
        above.append((first, t))
        ln = first - 1
    return sorted(above) + inside


__all__ = ["MAX_PLAN_BYTES", "load_plan", "load_plan_bytes"]
