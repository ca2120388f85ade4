"""Kustomize overlays read, never run: the objects a ``kustomization.yaml`` patches, as patched.

Why: an overlay's patch is where a region or an encryption flag is often changed (``encrypted: "false"``
on a StorageClass, a ``nodeSelector`` region on a Deployment). Judging the base alone misses that, and
loading the patch file as if it were a whole object judges a partial object. So each kustomization in
the scan is rendered here, from files of the scan only:

* ``resources:`` (and the legacy ``bases:``, ``components:``): local files and directories holding a
  kustomization, rendered recursively. A remote base (a URL, ``github.com/...``, ``?ref=``) is never
  fetched and a local one outside the scan is not read: a remote one is always a Problem, a missing
  local one when the kustomization patches (fail closed: what the patches change cannot be judged).
* ``patches:`` (file or inline, with or without ``target``), ``patchesStrategicMerge:`` and
  ``patchesJson6902:``: strategic-merge patches (maps merged, ``null`` deletes a key, lists merged by the
  Kubernetes merge key of the few built-in fields that have one, others replaced, ``$patch: delete``)
  and JSON 6902 operations (add, remove, replace, copy, move, test).
* ``namespace:``, ``commonLabels:`` and ``labels:`` are applied, since a namespace places ACK
  resources and labels exempt objects; ``namePrefix:``/``nameSuffix:`` too (not on Namespaces, CRDs and
  APIServices, as kustomize), with kustomize's nameReference rule for the references judged here: a
  PersistentVolume's, PersistentVolumeClaim's or StatefulSet claim template's ``storageClassName`` and a
  claim's ``volumeName`` follow the renamed object of the same kustomization (a class the kustomization
  does not hold, such as the cluster's ``gp3``, keeps its name). Images and replicas change nothing judged.
* ``configMapGenerator:`` and ``secretGenerator:`` make their ConfigMap/Secret from ``literals``,
  ``files`` and ``envs`` (a telemetry pipeline's config is often one: RES007 reads ConfigMap data), from
  the scan's own files (``read_file``: the loader gives the scan's YAML files). A file that is remote or
  outside the scanned tree, or a YAML file not in the scan, is a Problem (its data is not checked); one
  the loader was not given because it is not YAML (``app.properties``, ``fluent-bit.conf``) is a Note.
  The name hash kustomize appends is not computed.
* ``helmCharts:`` is never rendered (that would run Helm): each chart is a Problem naming it, like a
  remote base. ``replacements:`` are applied in their simple form (a source object's field or a
  ``sourceValue`` into the targets' ``fieldPaths``, with ``delimiter``/``index``/``create``); a selector
  by labels or annotations, a wildcard path or an ambiguous source is a Note, as ``vars:`` always is.

Only what a kustomization's own patches changed is returned, at the patch's file and line, so an
object is judged once as its base file says and once per overlay that patches it. A patch that names
no object of its kustomization is a Problem: what it would change cannot be judged.
"""

from __future__ import annotations

import base64
import copy
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scanner.model import Category, Note, Problem

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Built-in fields whose lists strategic merge merges by a key (k8s.io/api patchMergeKey); others replace.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
}
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|//")
_FIX_REMOTE = ("vendor the remote base into the repository (or render it: kustomize build ... | residency scan -) "
               "so its objects and the patches on them can be checked")
_FIX_MISSING = "scan the directory that holds both the kustomization and the files it lists"
_FIX_HELM = ("render the chart (kustomize build --enable-helm <dir> | residency scan -) or vendor its rendered "
             "manifests, so the objects it makes are checked")
# kustomize's prefix/suffix transformer skips these (api/filters/prefixsuffix, prefixSuffixFieldSpecsToSkip):
# any group's Namespace and CustomResourceDefinition, apiregistration.k8s.io's APIService.
_UNPREFIXED_KINDS = ("Namespace", "CustomResourceDefinition")
GENERATOR_NOTE = ("kustomize {kind} generator {name}: {file} is not read (only the scan's YAML files reach the "
                  "Kubernetes loader), so that data is not checked")
REPLACEMENTS_NOTE = "kustomize {key} not applied; the objects are judged with the values their files give"
REPLACEMENT_NOTE = "kustomize replacement not applied ({why}); the objects are judged with the values their files give"
PATCH_NOTE = "kustomize patch: judged as the objects it patches (kustomization {})"


@dataclass
class _Item:
    """One object of a rendered kustomization: its manifest, where it came from, who last patched it."""

    manifest: dict[str, Any]
    file: str
    line: int
    patched_in: str | None = None  # the kustomization whose patch last changed it
    patch_file: str = ""
    patch_line: int = 0
    original_name: str | None = None  # its name in its own file, before any kustomization renamed it


@dataclass
class Rendered:
    """What the loader needs: patched objects (manifest, file, line), patch files not to load raw, problems."""

    objects: list[tuple[dict[str, Any], str, int]] = field(default_factory=list)
    patch_files: dict[str, str] = field(default_factory=dict)  # patch file -> its kustomization
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def is_kustomization(rel_path: str) -> bool:
    return posixpath.basename(rel_path) in KUSTOMIZATION_NAMES


def listed_paths(rel_path: str, doc: Any) -> list[str]:
    """Local paths a kustomization names (resources, bases, components, patch files), normalised."""
    if not isinstance(doc, dict):
        return []
    folder = posixpath.dirname(rel_path)
    out = []
    for key in ("resources", "bases", "components", "patchesStrategicMerge"):
        for entry in _list(doc.get(key)):
            if isinstance(entry, str) and "\n" not in entry and not _REMOTE.search(entry):
                out.append(posixpath.normpath(posixpath.join(folder, entry)))
    for key in ("patches", "patchesJson6902"):
        for entry in _list(doc.get(key)):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                out.append(posixpath.normpath(posixpath.join(folder, entry["path"])))
    for key in ("configMapGenerator", "secretGenerator"):  # their files are read with the kustomization
        for entry in _list(doc.get(key)):
            if not isinstance(entry, dict):
                continue
            paths = [str(f).partition("=")[2] or str(f) for f in _list(entry.get("files"))]
            paths += [str(f) for f in _list(entry.get("envs"))] + ([entry["env"]] if isinstance(entry.get("env"), str)
                                                                  else [])
            out.extend(posixpath.normpath(posixpath.join(folder, f)) for f in paths if not _REMOTE.search(f))
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _line(value: Any, default: int) -> int:
    return getattr(value, "line", 0) or default


def _group(api_version: Any) -> tuple[str, str]:
    group, _, version = str(api_version or "").rpartition("/")
    return group, version


class _Renderer:
    def __init__(self, files: dict[str, list[tuple[Any, int]]], parse: Callable[[str], list[tuple[Any, int]]],
                 cluster_scoped: Callable[[str, str], bool],
                 read_file: Callable[[str], str | None] | None = None) -> None:
        self.files = files
        self.read_file = read_file
        self.parse = parse
        self.cluster_scoped = cluster_scoped
        self.memo: dict[str, list[_Item]] = {}
        self.out = Rendered()
        self.incomplete: set[str] = set()  # kustomizations with a resource not read (already a Problem)
        self.generated: set[tuple[str, str]] = set()  # (kind, name) of generated ConfigMaps and Secrets
        for path, docs in files.items():
            doc = docs[0][0] if is_kustomization(path) and docs else None
            for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
                entries = doc.get(key) if isinstance(doc, dict) else None
                for entry in _list(entries):
                    if isinstance(entry, dict) and entry.get("name"):
                        self.generated.add((kind, str(entry["name"])))

    def kustomization_in(self, folder: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            path = posixpath.normpath(posixpath.join(folder, name))
            if path in self.files:
                return path
        return None

    def has_patches(self, path: str) -> bool:
        docs = self.files.get(path) or []
        doc = docs[0][0] if docs else None
        return isinstance(doc, dict) and any(
            doc.get(k) for k in ("patches", "patchesStrategicMerge", "patchesJson6902"))

    def problem(self, category: Category, file: str, line: int, message: str, fix: str) -> None:
        self.out.problems.append(Problem(category, file, line, message, fix))

    # ------------------------------------------------------------------ resources
    def render(self, path: str, stack: tuple[str, ...] = ()) -> list[_Item]:
        if path in self.memo:
            return [copy.deepcopy(i) for i in self.memo[path]]
        if path in stack:
            self.problem(Category.PARSE, path, 1, "kustomization includes itself through its resources",
                         "remove the cycle from resources:")
            return []
        docs = self.files.get(path) or []
        doc, doc_line = docs[0] if docs else (None, 1)
        items: list[_Item] = []
        if not isinstance(doc, dict):
            self.memo[path] = items
            return items
        folder = posixpath.dirname(path)
        for key in ("resources", "bases", "components"):
            for entry in _list(doc.get(key)):
                line = getattr(doc, "key_lines", {}).get(key) or _line(doc, doc_line)
                items.extend(self.resource(path, folder, entry, line, (*stack, path)))
                if isinstance(entry, str) and (self.kustomization_in(posixpath.join(folder, entry))
                                               in self.incomplete):
                    self.incomplete.add(path)
        self.helm_charts(path, doc, doc_line)
        items.extend(self.generate(path, folder, doc, doc_line, items))
        if doc.get("vars"):
            self.out.notes.append(Note(path, REPLACEMENTS_NOTE.format(key="vars:")))
        for patch in self.patches(path, folder, doc, doc_line):
            self.apply(path, patch, items)
        self.transform(doc, items)
        self.replacements(path, folder, doc, doc_line, items)
        self.memo[path] = items
        return [copy.deepcopy(i) for i in items]

    def resource(self, kpath: str, folder: str, entry: Any, line: int, stack: tuple[str, ...]) -> list[_Item]:
        if not isinstance(entry, str):
            return []
        if _REMOTE.search(entry):
            self.incomplete.add(kpath)
            self.problem(Category.UNRESOLVED, kpath, line,
                         f"remote kustomize resource {entry} is not fetched: its objects and the patches on "
                         "them are not checked", _FIX_REMOTE)
            return []
        target = posixpath.normpath(posixpath.join(folder, entry))
        if target in self.files and not is_kustomization(target):
            return [_Item(copy.deepcopy(m), target, ln, original_name=str(_meta(m).get("name")))
                    for m, ln in _objects(self.files[target])]
        inner = self.kustomization_in(target)
        if inner is not None:
            return self.render(inner, stack)
        if not self.has_patches(kpath):
            return []  # nothing here changes what that file holds: it is judged (or not) as itself
        self.incomplete.add(kpath)
        self.problem(Category.UNRESOLVED, kpath, line,
                     f"kustomize resource {entry} ({target}) is not among the scanned files: the objects it "
                     "holds and the patches on them are not checked", _FIX_MISSING)
        return []

    def helm_charts(self, kpath: str, doc: dict[str, Any], doc_line: int) -> None:
        line = getattr(doc, "key_lines", {}).get("helmCharts") or doc_line
        for chart in _list(doc.get("helmCharts")):
            if not isinstance(chart, dict):
                continue
            self.incomplete.add(kpath)  # a patch on the chart's objects names nothing read: not reported again
            what = ", ".join(f"{k} {chart[k]}" for k in ("repo", "version", "releaseName") if chart.get(k))
            self.problem(Category.UNRESOLVED, kpath, _line(chart, line),
                         f"kustomize helmCharts chart {chart.get('name')}{f' ({what})' if what else ''} is not "
                         "rendered: the objects it makes are not checked", _FIX_HELM)

    # ------------------------------------------------------------------ generators
    def generate(self, kpath: str, folder: str, doc: dict[str, Any], doc_line: int,
                 items: list[_Item]) -> list[_Item]:
        """The ConfigMaps and Secrets of ``configMapGenerator:``/``secretGenerator:`` (``behavior: merge`` or
        ``replace`` changes the resource's object of that name in place)."""
        out: list[_Item] = []
        for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            key_line = getattr(doc, "key_lines", {}).get(key) or doc_line
            for entry in _list(doc.get(key)):
                if not isinstance(entry, dict) or not entry.get("name"):
                    continue
                name, line = str(entry["name"]), _line(entry, key_line)
                data = self.generated_data(kpath, folder, entry, kind, name)
                behavior = entry.get("behavior") or "create"
                same = [i for i in items if i.manifest.get("kind") == kind and _meta(i.manifest).get("name") == name]
                if behavior in ("merge", "replace") and same:
                    for item in same:
                        old = item.manifest.get("data") if behavior == "merge" else None
                        item.manifest["data"] = {**(old if isinstance(old, dict) else {}), **data}
                        item.patched_in, item.patch_file, item.patch_line = kpath, kpath, line
                    continue
                meta: dict[str, Any] = {"name": name}
                if isinstance(entry.get("namespace"), str):
                    meta["namespace"] = entry["namespace"]
                options = _sub(entry, "options")
                for field_name in ("labels", "annotations"):
                    if isinstance(options.get(field_name), dict):
                        meta[field_name] = {str(k): str(v) for k, v in options[field_name].items()}
                manifest: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": meta}
                if kind == "Secret":
                    manifest["type"] = str(entry.get("type") or "Opaque")
                    manifest["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
                else:
                    manifest["data"] = data
                out.append(_Item(manifest, kpath, line, kpath, kpath, line))
        return out

    def generated_data(self, kpath: str, folder: str, entry: dict[str, Any], kind: str, name: str) -> dict[str, str]:
        data: dict[str, str] = {}
        for literal in _list(entry.get("literals")):
            k, sep, v = str(literal).partition("=")
            if sep:
                data[k.strip()] = v
        for spec in _list(entry.get("files")):
            k, sep, path = str(spec).partition("=")
            if not sep:
                k, path = posixpath.basename(k), k
            text = self.generator_file(kpath, folder, path, entry, kind, name)
            if text is not None:
                data[k.strip()] = text
        env_files = [*_list(entry.get("envs")), *([entry["env"]] if isinstance(entry.get("env"), str) else [])]
        for path in env_files:
            text = self.generator_file(kpath, folder, str(path), entry, kind, name)
            for raw in (text or "").splitlines():
                line = raw.strip()
                k, sep, v = line.partition("=")
                if line and not line.startswith("#") and sep:  # a bare name takes the builder's environment
                    data[k.strip()] = v
        return data

    def generator_file(self, kpath: str, folder: str, path: str, entry: dict[str, Any], kind: str,
                       name: str) -> str | None:
        target = posixpath.normpath(posixpath.join(folder, path))
        line = _line(entry, 1)
        if _REMOTE.search(path) or path.startswith("/") or target == ".." or target.startswith("../"):
            self.problem(Category.UNRESOLVED, kpath, line,
                         f"kustomize {kind} generator {name}: {path} is remote or outside the scanned tree, so the "
                         f"generated {kind}'s data is not checked", _FIX_MISSING)
            return None
        text = self.read_file(target) if self.read_file is not None else None
        if text is not None:
            return text
        if target.endswith((".yaml", ".yml")):  # a YAML file the scan would have read: not in it
            self.problem(Category.UNRESOLVED, kpath, line,
                         f"kustomize {kind} generator {name}: {path} ({target}) is not among the scanned files, so "
                         f"the generated {kind}'s data is not checked", _FIX_MISSING)
        else:
            self.out.notes.append(Note(kpath, GENERATOR_NOTE.format(kind=kind, name=name, file=target)))
        return None

    # ------------------------------------------------------------------ patches
    def patches(self, kpath: str, folder: str, doc: dict[str, Any], doc_line: int) -> list[_Patch]:
        out: list[_Patch] = []

        def body(where: str, path: Any, inline: Any, target: Any) -> None:
            if isinstance(path, str) and _REMOTE.search(path):
                self.problem(Category.UNRESOLVED, kpath, doc_line,
                             f"remote kustomize patch {path} is not fetched: what it changes is not checked",
                             _FIX_REMOTE)
                return
            if isinstance(path, str):
                file = posixpath.normpath(posixpath.join(folder, path))
                if file not in self.files:
                    self.problem(Category.UNRESOLVED, kpath, doc_line,
                                 f"kustomize patch {path} ({file}) is not among the scanned files: what it "
                                 "changes is not checked", _FIX_MISSING)
                    return
                self.out.patch_files[file] = kpath
                docs = self.files[file]
            elif isinstance(inline, str):
                try:
                    docs = self.parse(inline)
                except Exception as exc:  # any unreadable inline patch fails closed
                    self.problem(Category.PARSE, kpath, doc_line, f"inline kustomize patch does not parse: {exc}",
                                 "fix the patch's YAML")
                    return
                file = kpath
            else:
                return
            for patch_doc, line in docs:
                out.append(_Patch(patch_doc, file, _line(patch_doc, line), target if isinstance(target, dict)
                                  else None, where))

        for entry in _list(doc.get("patchesStrategicMerge")):
            if isinstance(entry, str):
                inline = "\n" in entry
                body("patchesStrategicMerge", None if inline else entry, entry if inline else None, None)
        for key in ("patches", "patchesJson6902"):
            for entry in _list(doc.get(key)):
                if isinstance(entry, dict):
                    body(key, entry.get("path"), entry.get("patch"), entry.get("target"))
        return out

    def apply(self, kpath: str, patch: _Patch, items: list[_Item]) -> None:
        matched = [i for i in items if patch.matches(i.manifest)]
        if not matched and (kpath in self.incomplete or patch.generated(self.generated)):
            return  # its target is in a resource already reported as not read, or a generated ConfigMap/Secret
        if not matched:
            self.problem(Category.UNRESOLVED, patch.file, patch.line,
                         f"kustomize patch ({patch.where} of {kpath}) names no object of that kustomization's "
                         "resources: what it changes is not checked", _FIX_MISSING)
            return
        for item in matched:
            try:
                if isinstance(patch.doc, list):
                    item.manifest = _json6902(item.manifest, patch.doc)
                else:
                    merged = _merge(item.manifest, patch.doc)
                    if not isinstance(merged, dict):
                        continue
                    item.manifest = merged
            except _PatchError as exc:
                self.problem(Category.UNRESOLVED, patch.file, patch.line,
                             f"kustomize patch ({patch.where} of {kpath}) cannot be applied: {exc}",
                             "fix the patch so kustomize build would accept it")
                continue
            item.patched_in, item.patch_file, item.patch_line = kpath, patch.file, patch.line

    def transform(self, doc: dict[str, Any], items: list[_Item]) -> None:
        self.rename(doc, items)
        namespace = doc.get("namespace")
        labels: dict[str, Any] = {}
        if isinstance(doc.get("commonLabels"), dict):
            labels.update(doc["commonLabels"])
        for entry in _list(doc.get("labels")):
            if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict):
                labels.update(entry["pairs"])
        for item in items:
            meta = item.manifest.setdefault("metadata", {})
            if not isinstance(meta, dict):
                continue
            group = _group(item.manifest.get("apiVersion"))[0]
            if isinstance(namespace, str) and namespace and not self.cluster_scoped(str(item.manifest.get("kind")),
                                                                                  group):
                meta["namespace"] = namespace
            if labels:
                have = _sub(meta, "labels")
                meta["labels"] = {**have, **{str(k): str(v) for k, v in labels.items()}}


    # ------------------------------------------------------------------ replacements
    def replacements(self, kpath: str, folder: str, doc: dict[str, Any], doc_line: int, items: list[_Item]) -> None:
        """``replacements:`` (inline or ``path:``) in the simple form: one source object's field (or a
        ``sourceValue``) copied into the targets' ``fieldPaths``; what this does not read is a Note."""
        key_line = getattr(doc, "key_lines", {}).get("replacements") or doc_line
        for entry in _list(doc.get("replacements")):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                file = posixpath.normpath(posixpath.join(folder, entry["path"]))
                if file not in self.files:
                    self.out.notes.append(Note(kpath, REPLACEMENT_NOTE.format(
                        why=f"{entry['path']} is not among the scanned files")))
                    continue
                specs = [(d, ln) for doc_, ln in self.files[file]
                         for d in (doc_ if isinstance(doc_, list) else [doc_])]
            else:
                specs = [(entry, _line(entry, key_line))]
            for spec, line in specs:
                why = self.replace(kpath, spec, _line(spec, line), items)
                if why:
                    self.out.notes.append(Note(kpath, REPLACEMENT_NOTE.format(why=why)))

    def replace(self, kpath: str, spec: Any, line: int, items: list[_Item]) -> str:
        """Apply one replacement; the reason it was not applied, or "" when it was."""
        if not isinstance(spec, dict) or not isinstance(spec.get("targets"), list):
            return "no targets"
        if "sourceValue" in spec:
            value: Any = spec["sourceValue"]
        else:
            source = spec.get("source")
            if not isinstance(source, dict):
                return "no source"
            found = [i for i in items if _selects(source, i.manifest)]
            if len(found) != 1:
                return f"its source matches {len(found)} objects"
            value = _field(found[0].manifest, str(source.get("fieldPath") or "metadata.name"))
            if value is _MISSING:
                return f"source field {source.get('fieldPath')} is not set"
            options = _sub(source, "options")
            if options.get("delimiter") is not None:
                parts = str(value).split(str(options["delimiter"]))
                index = options.get("index", 0)
                if not isinstance(index, int) or not 0 <= index < len(parts):
                    return "its source index is outside the value"
                value = parts[index]
        for target in spec["targets"]:
            select = _sub(target, "select")
            if not select or any(k in select for k in ("labelSelector", "annotationSelector")):
                return "a target selector this scanner does not read"
            options = _sub(target, "options")
            for item in items:
                if not _selects(select, item.manifest) or any(
                        isinstance(r, dict) and _selects(r, item.manifest) for r in _list(target.get("reject"))):
                    continue
                for field_path in _list(target.get("fieldPaths")):
                    why = _set_field(item.manifest, str(field_path), value, options)
                    if why:
                        return why
                    item.patched_in, item.patch_file, item.patch_line = kpath, kpath, line
        return ""

    def rename(self, doc: dict[str, Any], items: list[_Item]) -> None:
        """``namePrefix:``/``nameSuffix:`` on every object but the kinds kustomize skips, and the
        storageClassName/volumeName references to an object renamed here (kustomize's nameReference)."""
        prefix, suffix = doc.get("namePrefix"), doc.get("nameSuffix")
        prefix = prefix if isinstance(prefix, str) else ""
        suffix = suffix if isinstance(suffix, str) else ""
        if not prefix and not suffix:
            return
        renamed: dict[tuple[str, str], str] = {}  # (kind, old name) -> new name
        for item in items:
            meta = _meta(item.manifest)
            kind = str(item.manifest.get("kind"))
            if kind in _UNPREFIXED_KINDS or not meta.get("name") or (
                    (_group(item.manifest.get("apiVersion"))[0], kind) == ("apiregistration.k8s.io", "APIService")):
                continue
            new = f"{prefix}{meta['name']}{suffix}"
            renamed[(kind, str(meta["name"]))] = new
            meta["name"] = new
        for item in items:
            for holder, key, kind in _name_references(item.manifest):
                if (kind, str(holder.get(key))) in renamed:
                    holder[key] = renamed[(kind, str(holder[key]))]


_MISSING = object()


def _selects(select: dict[str, Any], manifest: dict[str, Any]) -> bool:
    """Whether a replacement's source/select/reject (group, version, kind, name, namespace) names ``manifest``."""
    group, version = _group(manifest.get("apiVersion"))
    meta = _meta(manifest)
    have = {"group": group, "version": version, "kind": manifest.get("kind"), "name": meta.get("name"),
            "namespace": meta.get("namespace")}
    return all(select.get(k) in (None, "") or str(select[k]) == str(have[k] or "") for k in have)


def _path(field_path: str) -> list[str]:
    """``a.b\\.c.[name=x].0`` -> ["a", "b.c", "[name=x]", "0"] (kustomize: ``\\.`` is a dot in a key)."""
    parts, current, escaped = [], "", False
    for ch in field_path:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ".":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _step(node: Any, part: str) -> Any:
    if isinstance(node, list) and part.startswith("[") and part.endswith("]") and "=" in part:
        k, _, v = part[1:-1].partition("=")
        return next((e for e in node if isinstance(e, dict) and str(e.get(k)) == v), _MISSING)
    if isinstance(node, list) and part.isdigit():
        return node[int(part)] if int(part) < len(node) else _MISSING
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    return _MISSING


def _field(manifest: Any, field_path: str) -> Any:
    node = manifest
    for part in _path(field_path):
        node = _step(node, part)
        if node is _MISSING:
            return _MISSING
    return node


def _set_field(manifest: Any, field_path: str, value: Any, options: dict[str, Any]) -> str:
    """Set one target field as kustomize would; the reason it was not set, or ""."""
    parts = _path(field_path)
    if any("*" in p for p in parts):
        return f"wildcard field path {field_path}"
    node = manifest
    for part in parts[:-1]:
        nxt = _step(node, part)
        if nxt is _MISSING:
            if not options.get("create") or not isinstance(node, dict) or part.startswith("["):
                return ""  # kustomize skips a target without that field unless create is set
            nxt = node[part] = {}
        node = nxt
    last = parts[-1]
    if not isinstance(node, dict) or last.startswith("["):
        return f"field path {field_path} does not end at a mapping key"
    if last not in node and not options.get("create"):
        return ""
    if options.get("delimiter") is not None:
        pieces = str(node.get(last, "")).split(str(options["delimiter"]))
        index = options.get("index", 0)
        if not isinstance(index, int) or not 0 <= index < len(pieces):
            return "its target index is outside the value"
        pieces[index] = str(value)
        value = str(options["delimiter"]).join(pieces)
    node[last] = copy.deepcopy(value)
    return ""


def _name_references(manifest: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """(mapping, key, referenced kind) of the references kustomize's nameReference renames that matter here:
    StorageClass from PV, PVC and StatefulSet claim templates; PersistentVolume from a PVC."""
    kind, spec = manifest.get("kind"), _sub(manifest, "spec")
    out: list[tuple[dict[str, Any], str, str]] = []
    if kind in ("PersistentVolume", "PersistentVolumeClaim") and isinstance(spec.get("storageClassName"), str):
        out.append((spec, "storageClassName", "StorageClass"))
    if kind == "PersistentVolumeClaim" and isinstance(spec.get("volumeName"), str):
        out.append((spec, "volumeName", "PersistentVolume"))
    templates = spec.get("volumeClaimTemplates") if kind == "StatefulSet" else None
    for template in _list(templates):
        tspec = _sub(template, "spec")
        if isinstance(tspec.get("storageClassName"), str):
            out.append((tspec, "storageClassName", "StorageClass"))
    return out


class _PatchError(ValueError):
    """A patch kustomize itself would refuse (a JSON pointer to nothing, a failed test)."""


@dataclass
class _Patch:
    doc: Any
    file: str
    line: int
    target: dict[str, Any] | None
    where: str

    def generated(self, names: set[tuple[str, str]]) -> bool:
        """Whether the patch names a ConfigMap/Secret a generator makes (not an object of the files)."""
        doc = self.target if self.target is not None else self.doc
        if not isinstance(doc, dict):
            return False
        meta = _meta(doc) if "metadata" in doc else doc
        return (str(doc.get("kind")), str(meta.get("name"))) in names

    def matches(self, manifest: dict[str, Any]) -> bool:
        meta = _meta(manifest)
        group, version = _group(manifest.get("apiVersion"))
        if self.target is not None:
            t = self.target
            checks = (("group", group), ("version", version), ("kind", manifest.get("kind")),
                      ("name", meta.get("name")), ("namespace", meta.get("namespace")))
            for key, have in checks:
                want = t.get(key)
                if want not in (None, "") and not re.fullmatch(str(want), str(have or "")):
                    return False
            selector = t.get("labelSelector")
            if isinstance(selector, str) and selector:
                labels = _sub(meta, "labels")
                for term in selector.split(","):
                    key, _, value = term.partition("=")
                    if str(labels.get(key.strip())) != value.strip():
                        return False
            return True
        if not isinstance(self.doc, dict):
            return False  # a JSON 6902 patch needs a target
        pmeta = _meta(self.doc)
        if (self.doc.get("kind"), pmeta.get("name")) != (manifest.get("kind"), meta.get("name")):
            return False
        if _group(self.doc.get("apiVersion"))[0] != group:
            return False
        return pmeta.get("namespace") in (None, meta.get("namespace"))


def _sub(obj: Any, key: str) -> dict[str, Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _meta(obj: Any) -> dict[str, Any]:
    return _sub(obj, "metadata")


def _objects(docs: list[tuple[Any, int]]) -> list[tuple[dict[str, Any], int]]:
    out: list[tuple[dict[str, Any], int]] = []
    for doc, line in docs:
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
            continue
        items = doc.get("items")
        if str(doc["kind"]).endswith("List") and isinstance(items, list):
            out.extend((i, _line(i, line)) for i in items if isinstance(i, dict))
        else:
            out.append((doc, _line(doc, line)))
    return out


def _merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge of ``patch`` into ``base`` (both left untouched); see the module doc."""
    if isinstance(patch, dict) and patch.get("$patch") == "delete":
        return None
    if isinstance(patch, dict) and isinstance(base, dict):
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        out = copy.copy(base)  # a LineDict stays one, with the base's lines
        if hasattr(base, "key_lines"):
            out.key_lines = dict(base.key_lines)  # type: ignore[attr-defined]
        for k, v in patch.items():
            if k.startswith("$"):
                continue
            if v is None:
                out.pop(k, None)
                continue
            merged = _merge(base.get(k), v, k)
            if merged is None and isinstance(v, dict) and v.get("$patch") == "delete":
                out.pop(k, None)
                continue
            out[k] = merged
            lines = getattr(patch, "key_lines", None)
            if lines and k in lines and hasattr(out, "key_lines"):
                out.key_lines[k] = lines[k]
        return out
    merge_key = _MERGE_KEYS.get(key)
    if isinstance(patch, list) and isinstance(base, list) and merge_key:
        out_list = list(base)
        for element in patch:
            if not isinstance(element, dict) or merge_key not in element:
                out_list.append(element)
                continue
            index = next((n for n, b in enumerate(out_list)
                          if isinstance(b, dict) and b.get(merge_key) == element[merge_key]), None)
            if index is None:
                if element.get("$patch") != "delete":
                    out_list.append({k: v for k, v in element.items() if not k.startswith("$")})
            elif element.get("$patch") == "delete":
                out_list.pop(index)
            else:
                out_list[index] = _merge(out_list[index], element)
        return out_list
    return copy.deepcopy(patch)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _PatchError(f"{path!r} is not a JSON pointer")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise _PatchError(f"/{'/'.join(parts)} does not exist in the target")
    return doc


def _json6902(manifest: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    doc = copy.deepcopy(manifest)
    for op in ops:
        if not isinstance(op, dict):
            raise _PatchError("an operation is not a mapping")
        kind, parts = op.get("op"), _pointer(op.get("path"))
        if not parts:
            raise _PatchError("an operation on the whole object")
        if kind in ("copy", "move"):
            source = _pointer(op.get("from"))
            value = copy.deepcopy(_walk(doc, source))
            if kind == "move":
                _remove(doc, source)
            _add(doc, parts, value)
        elif kind == "add":
            _add(doc, parts, copy.deepcopy(op.get("value")), _line(op, 0))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _walk(doc, parts)
            _remove(doc, parts)
            _add(doc, parts, copy.deepcopy(op.get("value")), _line(op, 0))
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise _PatchError(f"test of {op.get('path')} failed")
        else:
            raise _PatchError(f"unknown operation {kind!r}")
    return doc


def _add(doc: Any, parts: list[str], value: Any, line: int = 0) -> None:
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
        if line and hasattr(parent, "key_lines"):
            parent.key_lines[last] = line  # provenance names the operation that set it
    elif isinstance(parent, list) and last == "-":
        parent.append(value)
    elif isinstance(parent, list) and last.isdigit() and int(last) <= len(parent):
        parent.insert(int(last), value)
    else:
        raise _PatchError(f"cannot add at /{'/'.join(parts)}")


def _remove(doc: Any, parts: list[str]) -> None:
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent.pop(int(last))
    else:
        raise _PatchError(f"/{'/'.join(parts)} does not exist in the target")


def render_kustomizations(
    files: dict[str, list[tuple[Any, int]]],
    parse: Callable[[str], list[tuple[Any, int]]],
    cluster_scoped: Callable[[str, str], bool],
    read_file: Callable[[str], str | None] | None = None,
) -> Rendered:
    """Render every kustomization among ``files`` (rel path -> parsed documents); see the module doc.

    ``parse`` reads an inline patch (the Kubernetes loader's YAML reader, with its limits) and
    ``cluster_scoped(kind, group)`` says which objects ``namespace:`` leaves alone: passed in by the loader,
    so this module does not import it back. ``read_file`` (optional) gives a file of the scanned tree as
    text, or None when the caller has not got it, for generators' ``files``/``envs``.

    An object the overlay did not change is judged at its base; one it changed is returned, and with it
    an unchanged StorageClass or PersistentVolume it refers to under a name this overlay gave it, so the
    link still resolves.
    """
    renderer = _Renderer(files, parse, cluster_scoped, read_file)
    for path in sorted(p for p in files if is_kustomization(p)):
        items = renderer.render(path)
        changed = [i for i in items if i.patched_in == path]
        wanted = {(kind, str(holder.get(key))) for i in changed for holder, key, kind in _name_references(i.manifest)}
        base_names = {(str(i.manifest.get("kind")), str(_meta(i.manifest).get("name"))): i for i in items}
        referred = [i for k, i in base_names.items() if k in wanted and i.patched_in != path
                    and k[1] != i.original_name]  # renamed: the base's object has another name
        for item in changed:
            if hasattr(item.manifest, "line"):
                item.manifest.line = item.patch_line  # findings point at the patch, not the base
            renderer.out.objects.append((item.manifest, item.patch_file, item.patch_line))
        for item in referred:
            renderer.out.objects.append((item.manifest, item.file, item.line))
    for patch_file, kpath in sorted(renderer.out.patch_files.items()):
        if patch_file != kpath:
            renderer.out.notes.append(Note(patch_file, PATCH_NOTE.format(kpath)))
    return renderer.out
