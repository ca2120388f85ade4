"""Kubernetes YAML -> :class:`Resource` objects, with the line of every object.

Loaders know syntax, not policy. This one:

* composes each file once with libyaml (``CSafeLoader``) and converts the node graph to plain
  Python itself, so every mapping keeps its start line (:class:`LineDict`) and alias expansion is
  bounded (a "billion laughs" document becomes a parse problem, not an out-of-memory kill);
* keeps only Kubernetes objects (``apiVersion`` + ``kind``); other YAML (workflows, compose files,
  Helm values, kustomization.yaml) is skipped without a word, Helm templates with a Note;
* translates cloud data stores declared as manifests (Crossplane Upbound, ACK, Config Connector,
  Azure Service Operator) to the Terraform type and snake_case arguments they mean, so the one
  data-store catalog in ``checks/catalog/`` serves both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scanner.limits import MIN_YAML_NODE_BUDGET, yaml_nesting_error
from scanner.loaders.kubernetes_rbac import link_rbac
from scanner.loaders.kustomize import is_kustomization, render_kustomizations
from scanner.loaders.operator_tables import KccKind, TableError, load_attribute_tables, load_operator_tables
from scanner.model import (
    Category,
    LoadResult,
    Location,
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

_BaseLoader: type = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _Loader(_BaseLoader):
    """Safe loader that also accepts the YAML 1.1 ``=`` value key some published CRDs contain."""


# A subclass, so registering the tag does not change the global SafeLoader others may use.
_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))

#: (region or None, cloud, provenance sentence) for a scanned file, e.g. from ``Policy.cluster_for``.
ClusterRegionFn = Callable[[str], "tuple[str | None, str | None, str] | None"]

HELM_NOTE = "Helm template skipped: render it first (helm template ... | residency scan -)"

# Groups whose kinds are addressed without the group (the contract's "core" set).
_CORE_GROUPS = frozenset({"", "apps", "batch", "storage.k8s.io"})
_CLUSTER_SCOPED = frozenset(
    {
        "StorageClass",
        "PersistentVolume",
        "Namespace",
        "Node",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "VolumeSnapshotClass",
        "VolumeSnapshotContent",
        "CSIDriver",
        "CSINode",
        "IngressClass",
        "RuntimeClass",
        "VolumeAttachment",
        "APIService",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ClusterIssuer",
    }
)
# YAML that carries apiVersion/kind but is a build input, not an object sent to a cluster.
_NOT_OBJECTS = frozenset(
    {("kustomize.config.k8s.io", "Kustomization"), ("kustomize.config.k8s.io", "Component")}
)


class YamlLimitError(ValueError):
    """A document whose aliases expand past the budget, or that refers to itself."""


class LineDict(dict):
    """A mapping that remembers where it was written: ``line`` of its first key, ``key_lines`` per key.

    A plain dict subclass so every consumer (catalog, JSON output, deepcopy, pickle) treats it as
    the dict it is, while the loader and classifiers can still point at the exact line.
    """

    __slots__ = ("key_lines", "line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[str, int] = {}


def line_of(value: Any, key: str | None = None, default: int = 0) -> int:
    """The 1-based line of a loaded mapping (or of one of its keys), ``default`` when unknown."""
    if isinstance(value, LineDict):
        if key is not None and key in value.key_lines:
            return value.key_lines[key]
        return value.line or default
    return default


# --------------------------------------------------------------------------------------------
# YAML nodes -> Python, with lines and an expansion budget


class _Converter:
    """Turns one composed document into Python values.

    PyYAML's own constructor would expand aliases without limit and drop positions; this walks
    the node graph once, counting every node it emits against ``budget``.
    """

    _constructor = SafeConstructor()

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.templated = False  # a ``{{ }}`` Go template seen where YAML structure is
        self._active: set[int] = set()

    def convert(self, node: Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlLimitError(
                "YAML aliases expand to more nodes than the file could hold; refusing to expand"
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        ident = id(node)
        if ident in self._active:
            raise YamlLimitError("YAML alias refers to the node that contains it (a recursive document)")
        self._active.add(ident)
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item) for item in node.value]
            if isinstance(node, MappingNode):
                return self._mapping(node)
        finally:
            self._active.discard(ident)
        return None

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if node.style is None and "{{" in node.value:
            self.templated = True
        if tag == "tag:yaml.org,2002:str":
            return node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return self._constructor.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:int":
            return self._constructor.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:float":
            return self._constructor.construct_yaml_float(node)
        return node.value  # timestamps, binary, ``=`` and custom tags stay the text that was written

    def _key(self, node: Node) -> str:
        if isinstance(node, ScalarNode):
            return node.value  # the text as written: ``on:`` stays "on", ``80:`` stays "80"
        self.templated = True  # a complex key only appears in manifests as ``{{ ... }}``
        return repr(self.convert(node))

    def _mapping(self, node: MappingNode) -> LineDict:
        out = LineDict()
        out.line = node.start_mark.line + 1
        merged: list[tuple[str, Any, int]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    value = self.convert(source)
                    if isinstance(value, LineDict):
                        merged.extend((k, v, value.key_lines.get(k, value.line)) for k, v in value.items())
                continue
            key = self._key(key_node)
            out[key] = self.convert(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        seen: set[str] = set(out)  # explicit keys win over merged ones; earlier merge sources win
        for key, value, line in merged:
            if key not in seen:
                seen.add(key)
                out[key] = value
                out.key_lines[key] = line
        return out


def parse_documents(text: str) -> tuple[list[tuple[Any, int]], bool]:
    """All documents of ``text`` as (value, first line), and whether Go templating was seen.

    Raises ``yaml.YAMLError`` or :class:`YamlLimitError`; the caller turns both into a Problem.
    """
    deep = yaml_nesting_error(text)  # before composing: libyaml's composer recurses in C
    if deep is not None:
        raise YamlLimitError(deep[1])
    converter = _Converter(budget=max(MIN_YAML_NODE_BUDGET, len(text)))
    documents: list[tuple[Any, int]] = []
    for node in yaml.compose_all(text, Loader=_Loader):
        if node is None:
            continue
        documents.append((converter.convert(node), node.start_mark.line + 1))
    return documents, converter.templated


# --------------------------------------------------------------------------------------------
# File classification helpers (used by discovery too)

_API_RE = re.compile(r"""^["']?apiVersion["']?\s*:\s*\S""", re.M)
_KIND_RE = re.compile(r"""^["']?kind["']?\s*:\s*["']?(\w+)""", re.M)
_JSON_API_RE = re.compile(r'"apiVersion"\s*:\s*"[^"]+"')
_JSON_KIND_RE = re.compile(r'"kind"\s*:\s*"(\w+)"')
_TEMPLATE_LINE_RE = re.compile(r"^\s*\{\{|:\s+\{\{|^\s*-\s+\{\{", re.M)


def is_kubernetes_yaml(text: str) -> bool:
    """Cheap test: does this YAML (or JSON) text hold at least one Kubernetes object?

    Looks for top-level ``apiVersion`` and ``kind`` keys, so Helm values.yaml (nested keys),
    workflows, compose files and pre-commit configs are not Kubernetes; a kustomization.yaml is
    a build input, not an object.
    """
    if _API_RE.search(text):
        kinds = _KIND_RE.findall(text)
    elif _JSON_API_RE.search(text):
        kinds = _JSON_KIND_RE.findall(text)
    else:
        return False
    return any(kind not in ("Kustomization", "Component") for kind in kinds)


def has_go_templating(text: str) -> bool:
    """``{{`` where YAML structure is expected (a Helm/Go template), not inside a quoted string."""
    return "{{" in text and _TEMPLATE_LINE_RE.search(text) is not None


def in_helm_chart(
    rel_path: str, chart_files: Iterable[str] = (), root: str | os.PathLike[str] | None = None
) -> bool:
    """True for a file under a chart's ``templates/`` dir: an ancestor of that dir holds Chart.yaml.

    ``chart_files`` are scanned paths (relative, ``/``-separated) to test against; ``root`` lets
    the check look on disk too, for charts whose Chart.yaml was not passed in.
    """
    parts = PurePosixPath(rel_path).parts
    if "templates" not in parts[:-1]:
        return False
    charts = {str(PurePosixPath(p).parent) for p in chart_files if PurePosixPath(p).name == "Chart.yaml"}
    index = len(parts) - 1 - list(reversed(parts[:-1])).index("templates") - 1
    for depth in range(index, -1, -1):
        ancestor = str(PurePosixPath(*parts[:depth])) if depth else "."
        if ancestor in charts:
            return True
        if root is not None and rel_path != "-" and (Path(root) / ancestor / "Chart.yaml").is_file():
            return True
    return False


# --------------------------------------------------------------------------------------------
# Addresses


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> ("apps", "v1"); ``v1`` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


def kube_type(kind: str, group: str) -> str:
    """``Kind`` for core/apps/batch/storage.k8s.io, ``Kind.group`` otherwise."""
    return kind if group in _CORE_GROUPS else f"{kind}.{group}"


def is_cluster_scoped(kind: str, group: str) -> bool:
    """Kinds whose objects have no namespace (namespace is dropped from their address)."""
    if group.endswith(".upbound.io"):
        return not group.endswith(".m.upbound.io")
    return kind in _CLUSTER_SCOPED and (group in _CORE_GROUPS or "k8s.io" in group or group.endswith(".io"))


def kube_address(kind: str, group: str, namespace: str | None, name: str) -> str:
    """``Kind[.group]/namespace/name`` as the contract spells it."""
    head = kube_type(kind, group)
    if namespace and not is_cluster_scoped(kind, group):
        return f"{head}/{namespace}/{name}"
    return f"{head}/{name}"


# --------------------------------------------------------------------------------------------
# Loading


class _Object:
    """One Kubernetes object as read, before it becomes a Resource."""

    __slots__ = ("api_version", "file", "group", "kind", "line", "manifest", "name", "namespace")

    def __init__(self, manifest: dict[str, Any], file: str, line: int) -> None:
        self.manifest = manifest
        self.file = file
        self.line = line
        self.api_version = str(manifest.get("apiVersion"))
        self.kind = str(manifest.get("kind"))
        self.group, _ = split_api_version(self.api_version)
        meta = _sub(manifest, "metadata")
        name = meta.get("name") or (f"{meta['generateName']}*" if meta.get("generateName") else None)
        self.name = str(name) if name is not None else f"<unnamed:{line}>"
        ns = meta.get("namespace")
        self.namespace = str(ns) if ns not in (None, "") else None

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.manifest.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def address(self) -> str:
        return kube_address(self.kind, self.group, self.namespace, self.name)


def _is_object(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str) or not api or not kind:
        return False
    return (split_api_version(api)[0], kind) not in _NOT_OBJECTS


def _objects(doc: Any, file: str, line: int) -> Iterable[_Object]:
    if not _is_object(doc):
        return
    items = doc.get("items")
    if doc["kind"].endswith("List") and isinstance(items, list):
        for item in items:
            if _is_object(item):
                yield _Object(item, file, line_of(item, default=line))
        return
    yield _Object(doc, file, line_of(doc, default=line))


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig")


def load_kubernetes(
    files: Iterable[tuple[str, bytes]],
    *,
    cluster_region: ClusterRegionFn | None = None,
    root: str | os.PathLike[str] | None = None,
    chart_files: Iterable[str] = (),
    parse: Callable[[list[tuple[str, bytes]]], list[tuple[Any, ...]]] | None = None,
) -> LoadResult:
    """Load Kubernetes YAML files (``("-", data)`` for standard input) into Resources.

    ``cluster_region(rel_path)`` gives the cluster a file is applied to, as (region, cloud,
    provenance); the loader only records it as each object's ``location_hint``. ``root`` and
    ``chart_files`` let it recognise Helm chart templates. Files that do not parse become
    Problems; YAML that is not a Kubernetes object is skipped silently. ``parse`` (default
    :func:`parse_yaml_files`) parses a batch of files, one outcome each in order: injectable so a
    content-hash cache or worker processes can do it.
    """
    result = LoadResult()
    objects: list[_Object] = []
    parsed: dict[str, list[tuple[Any, int]]] = {}
    chart_files = list(chart_files)
    file_list = list(files)
    chart_files += [p for p, _ in file_list if PurePosixPath(p).name == "Chart.yaml"]
    in_chart = [in_helm_chart(rel_path, chart_files, root) for rel_path, _ in file_list]
    outcomes = iter((parse or parse_yaml_files)([f for f, skip in zip(file_list, in_chart, strict=True) if not skip]))
    for (rel_path, data), skip in zip(file_list, in_chart, strict=True):
        result.files += 1
        if skip:
            try:
                _decode(data)
            except UnicodeDecodeError as exc:
                result.problems.append(_undecodable(rel_path, exc))
                continue
            result.notes.append(Note(rel_path, HELM_NOTE))
            continue
        outcome = next(outcomes)
        if outcome[0] == "undecodable":
            result.problems.append(outcome[1])
            continue
        if outcome[0] == "error":
            if outcome[2]:  # a Go template that is not YAML: a chart template outside a chart
                result.notes.append(Note(rel_path, HELM_NOTE))
            else:
                result.problems.append(outcome[1])
            continue
        _, documents, templated, seen_templating = outcome
        if templated and seen_templating:
            result.notes.append(Note(rel_path, HELM_NOTE))
            continue
        parsed[rel_path] = documents
        for doc, line in documents:
            objects.extend(_objects(doc, rel_path, line))
    if any(is_kustomization(p) for p in parsed):
        # Overlays: what a kustomization's patches change is judged as patched, at the patch; a patch file
        # is not an object of its own (scanner/loaders/kustomize.py).
        raw = {rel_path: data for rel_path, data in file_list if rel_path in parsed}

        def read_file(rel_path: str) -> str | None:
            """A generator's files/envs entry that is a file of the scan (a config a ConfigMap is made from)."""
            return _decode(raw[rel_path]) if rel_path in raw else None

        rendered = render_kustomizations(parsed, lambda text: parse_documents(text)[0], is_cluster_scoped,
                                         read_file=read_file)
        patch_only = set(rendered.patch_files) - {p for p in parsed if is_kustomization(p)}
        objects = [o for o in objects if o.file not in patch_only]
        for manifest, file, line in rendered.objects:
            objects.extend(_objects(manifest, file, line))
        result.notes.extend(rendered.notes)
        result.problems.extend(rendered.problems)
    result.resources = _Builder(objects, cluster_region).build()
    return result


def parse_yaml_file(rel_path: str, data: bytes) -> tuple[Any, ...]:
    """One file's parse as plain picklable data, so a cache or a worker process can hold it.

    ``("ok", documents, templated, seen_templating)``, ``("error", Problem, templated)`` or
    ``("undecodable", Problem)``; :func:`load_kubernetes` turns these into objects, notes, problems.
    """
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        return ("undecodable", _undecodable(rel_path, exc))
    templated = has_go_templating(text)
    try:
        documents, seen_templating = parse_documents(text)
    except (yaml.YAMLError, YamlLimitError, RecursionError) as exc:
        return ("error", _parse_problem(rel_path, exc), templated)
    return ("ok", documents, templated, seen_templating)


def parse_yaml_files(files: list[tuple[str, bytes]]) -> list[tuple[Any, ...]]:
    """The default batch parse: every file in this process, in order."""
    return [parse_yaml_file(rel_path, data) for rel_path, data in files]


def _undecodable(rel_path: str, exc: UnicodeDecodeError) -> Problem:
    return Problem(Category.PARSE, rel_path, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                   "save the file as UTF-8")


def _parse_problem(rel_path: str, exc: BaseException) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if isinstance(exc, yaml.YAMLError):
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"YAML does not parse: {context + ', ' if context else ''}{problem}"
    elif isinstance(exc, RecursionError):
        message = "YAML nests too deeply to read"
    else:
        message = str(exc)
    return Problem(
        Category.PARSE, rel_path, line, message, "fix the YAML syntax (yamllint shows the exact spot)"
    )


# --------------------------------------------------------------------------------------------
# Building resources (native objects and translated cloud resources)


class _Builder:
    """Second pass: objects that refer to one another (ACK namespaces, ASO owners, refs) are all known."""

    def __init__(self, objects: list[_Object], cluster_region: ClusterRegionFn | None) -> None:
        self.objects = objects
        self.cluster_region = cluster_region
        self.by_name: dict[str, list[_Object]] = {}
        self.namespaces: dict[str, list[_Object]] = {}
        for obj in objects:
            self.by_name.setdefault(obj.name, []).append(obj)
            if obj.kind == "Namespace" and obj.group == "":
                self.namespaces.setdefault(obj.name, []).append(obj)
        self._hints: dict[str, Location | None] = {}

    def build(self) -> list[Resource]:
        resources = []
        for obj in self.objects:
            translated = _translate(obj, self)
            resources.append(translated if translated is not None else self.native(obj))
        _link_storage_classes(resources)
        link_rbac(resources, parse_documents)  # bindings -> roles, aws-auth -> bindings (RES006)
        return resources

    def hint(self, file: str) -> Location | None:
        if self.cluster_region is None:
            return None
        if file not in self._hints:
            found = self.cluster_region(file)
            region, cloud, source = found if found else (None, "", "")
            self._hints[file] = Location(cloud or "", region, source) if region else None
        return self._hints[file]

    def extra(self, obj: _Object) -> dict[str, Any]:
        meta = obj.metadata
        labels = _sub(meta, "labels")
        annotations = _sub(meta, "annotations")
        return {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "namespace": obj.namespace,
            "name": obj.name,
            "labels": dict(labels),
            "annotations": dict(annotations),
        }

    def native(self, obj: _Object) -> Resource:
        return Resource(
            type=kube_type(obj.kind, obj.group),
            address=obj.address,
            file=obj.file,
            line=obj.line,
            attributes=obj.manifest,
            source="kubernetes",
            location_hint=self.hint(obj.file),
            extra=self.extra(obj),
        )

    def namespace_of(self, obj: _Object) -> _Object | Unknown | None:
        """The Namespace object ``obj`` lives in (unset: ``default``), or None when the scan has none.

        Two apps in one scan may each create a Namespace of one name with different annotations (ACK
        region, KCC project); the one meant is the nearest (:func:`_nearest`), and one still ambiguous
        is Unknown rather than whichever file was read last.
        """
        name = obj.namespace or "default"
        found = _nearest(self.namespaces.get(name, []), None, obj)
        if len(found) > 1:
            files = ", ".join(sorted(o.file for o in found))
            return Unknown(f"{len(found)} Namespaces named {name} in this scan ({files}), none nearer to {obj.file}")
        return found[0] if found else None

    def find(
        self,
        name: str,
        namespace: str | None,
        family: str,
        kinds: tuple[str, ...] = (),
        near: _Object | None = None,
    ) -> _Object | None:
        """The object a ``...Ref: {name}`` points at: same operator family, preferably a hinted kind.

        A name reused elsewhere in the scan (every upbound example names its key ``sample-key``) must not
        break a reference that resolves alone, so duplicates are narrowed as :func:`_nearest` says and
        only a name still ambiguous after that resolves to nothing.
        """
        candidates = [
            o
            for o in self.by_name.get(name, ())
            if _family(o.group) == family
            and (o.namespace in (namespace, None) or is_cluster_scoped(o.kind, o.group))
        ]
        preferred = [o for o in candidates if o.kind in kinds]
        pick = _nearest(preferred or candidates, namespace, near)
        return pick[0] if len(pick) == 1 else None

    def select(
        self,
        labels: dict[str, Any],
        namespace: str | None,
        family: str,
        kinds: tuple[str, ...] = (),
        near: _Object | None = None,
    ) -> list[_Object]:
        """The objects a ``...Selector: {matchLabels}`` matches: same family and namespace, a hinted kind,
        narrowed to the nearest (:func:`_nearest`) when the labels recur in other files of the scan."""
        wanted = {str(k): str(v) for k, v in labels.items()}
        candidates = []
        for o in self.objects:
            if _family(o.group) != family or not (
                o.namespace in (namespace, None) or is_cluster_scoped(o.kind, o.group)
            ):
                continue
            have = o.metadata.get("labels")
            if isinstance(have, dict) and all(k in have and str(have[k]) == v for k, v in wanted.items()):
                candidates.append(o)
        preferred = [o for o in candidates if o.kind in kinds]
        return _nearest(preferred or candidates, namespace, near)


def _nearest(candidates: list[_Object], namespace: str | None, near: _Object | None) -> list[_Object]:
    """Of several objects a reference could name, the ones it means.

    One cluster cannot hold two objects of one kind, name and namespace, so duplicates in a scan are
    objects of different deployments (another example, another overlay). The reference means, in
    order: the object in its own namespace (over one that names none), the one in its own file, the
    ones in its own directory (the order that links PersistentVolumes to StorageClasses), the ones in
    the nearest directory above it (an app's Namespace in ``app/``, its objects in ``app/db/``). What is
    left with more than one object stays ambiguous for the caller to report.
    """
    if len(candidates) < 2:
        return candidates
    if namespace is not None:
        exact = [o for o in candidates if o.namespace == namespace]
        if exact:
            candidates = exact
    if near is None or len(candidates) < 2:
        return candidates
    same_file = [o for o in candidates if o.file == near.file]
    if same_file:
        return same_file
    folder = PurePosixPath(near.file).parent
    same_dir = [o for o in candidates if PurePosixPath(o.file).parent == folder]
    if same_dir:
        return same_dir
    # Else the nearest directory above it (an app's Namespace in app/, its objects in app/db/).
    above = [o for o in candidates if PurePosixPath(o.file).parent in folder.parents]
    if not above:
        return candidates
    deepest = max(len(PurePosixPath(o.file).parent.parts) for o in above)
    return [o for o in above if len(PurePosixPath(o.file).parent.parts) == deepest]


def _link_storage_classes(resources: list[Resource]) -> None:
    """Give each PersistentVolume the StorageClass it names when that class is in another file.

    Classification runs per file, so a class in ``storage/classes.yaml`` would otherwise be invisible
    to the volumes in ``storage/volumes.yaml``. The nearest class wins: same file, same directory,
    else the only one of that name in the scan; an ambiguous name links nothing.
    """
    classes: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type == "StorageClass":
            classes.setdefault(str(r.extra.get("name")), []).append(r)
    if not classes:
        return
    for r in resources:
        if r.type != "PersistentVolume":
            continue
        spec = r.attributes.get("spec")
        name = spec.get("storageClassName") if isinstance(spec, dict) else None
        found = classes.get(str(name)) if name else None
        if not found or any(c.file == r.file for c in found):
            continue  # none, or the classifier finds it in the same file
        folder = str(PurePosixPath(r.file).parent)
        near = [c for c in found if str(PurePosixPath(c.file).parent) == folder]
        pick = near if near else found
        if len(pick) == 1:
            r.extra["storage_class"] = pick[0]


def _family(group: str) -> str:
    for suffix in (
        ".aws.upbound.io",
        ".aws.m.upbound.io",
        ".gcp.upbound.io",
        ".gcp.m.upbound.io",
        ".azure.upbound.io",
        ".azure.m.upbound.io",
        ".services.k8s.aws",
        ".cnrm.cloud.google.com",
        ".azure.com",
    ):
        if group.endswith(suffix) or group == suffix[1:]:
            return suffix.replace(".m.", ".")
    return group


# --------------------------------------------------------------------------------------------
# Operator translation tables: data in scanner/loaders/data/operators.yaml, loaded strictly.
# (family, service, kind) -> Terraform type; the format is in the file's header.

_TABLES = load_operator_tables()
UPBOUND_TYPES: dict[tuple[str, str], str] = _TABLES.families["upbound"]
ACK_TYPES: dict[tuple[str, str], str] = _TABLES.families["ack"]
KCC_TYPES: dict[tuple[str, str], str] = _TABLES.families["kcc"]
_KCC_DERIVED: dict[tuple[str, str], KccKind] = _TABLES.kcc_derived
ASO_TYPES: dict[tuple[str, str], str] = _TABLES.families["aso"]
# ASO child kinds -> the Terraform argument that names their parent (the ``spec.owner``).
_ASO_PARENT_ARGS: dict[str, str] = _TABLES.aso_parent_args
# ACK / Config Connector / ASO spec fields -> Terraform arguments (data/operator_attributes.yaml, _map_fields).
_ATTRIBUTES = load_attribute_tables(translated=_TABLES)

# Map-valued Terraform arguments: their keys are data (tag names), never snake_cased or wrapped.
_MAP_ARGS = frozenset(
    {"tags", "tags_all", "labels", "user_labels", "parameters", "annotations", "default_tags"}
)
_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """lowerCamelCase (``kmsKeyID``, ``serverSideEncryption``) -> snake_case Terraform argument."""
    return _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name)).lower()


def _ref_attribute(field: str, family: str = ".aws.upbound.io") -> str:
    if "aws" not in family:
        return "id"  # only AWS resources are referred to by ARN
    low = field.lower()
    return "arn" if low.endswith("arn") or "kms" in low or low.endswith("keyid") else "id"


class _Translation:
    """Shared state for translating one object: where it is, and how to resolve its refs."""

    def __init__(self, obj: _Object, builder: _Builder) -> None:
        self.obj = obj
        self.builder = builder
        self.family = _family(obj.group)

    def where(self, mapping: Any, key: str) -> str:
        return f"{self.obj.file}:{line_of(mapping, key, self.obj.line)}"

    def ref(self, field: str, value: Any, kinds: tuple[str, ...] = ()) -> Ref | Unknown:
        """A ``{name|external}`` reference -> a Ref joinable by address (or the external id)."""
        if isinstance(value, dict):
            if value.get("external"):
                return Ref(str(value["external"]))
            namespace = str(value["namespace"]) if value.get("namespace") else self.obj.namespace
            if value.get("name"):
                target = self.builder.find(str(value["name"]), namespace, self.family, kinds, self.obj)
                address = (
                    target.address
                    if target is not None
                    else f"{kinds[0] if kinds else field}/{value['name']}"
                )
                return Ref(address, _ref_attribute(field, self.family))
            labels = value.get("matchLabels")
            if isinstance(labels, dict):
                selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
                matches = self.builder.select(labels, namespace, self.family, kinds, self.obj)
                if len(matches) == 1:
                    return Ref(matches[0].address, _ref_attribute(field, self.family))
                if len(matches) > 1:
                    names = ", ".join(sorted(o.address for o in matches))
                    return Unknown(
                        f"{field} of {self.obj.address} matches {len(matches)} objects ({names}); "
                        "Crossplane picks one of them, so which is not in the manifests"
                    )
                return Ref(f"{kinds[0] if kinds else field}[{selector}]", _ref_attribute(field, self.family))
        return Unknown(f"{field} of {self.obj.address} is not a reference the scanner can read")

    def snake_tree(
        self, value: Any, refs: dict[str, tuple[str, tuple[str, ...]]] | None = None, prefix: str = ""
    ) -> Any:
        """Crossplane forProvider -> Terraform arguments: snake_case keys, blocks as lists of dicts.

        ``refs`` (a derived Config Connector kind): dotted spec path of a reference key -> the Terraform
        argument it fills and the kinds it names, so ``encryptionConfiguration.kmsKeyRef`` becomes
        ``encryption_configuration[0].kms_key_name`` rather than a guessed ``kms_key``.
        """
        if isinstance(value, list):
            return [self.snake_tree(v, refs, prefix) for v in value]
        if not isinstance(value, dict):
            return value
        out = LineDict()
        if isinstance(value, LineDict):
            out.line = value.line
        for key, item in value.items():
            mapped = refs.get(prefix + key) if refs else None
            if mapped is not None:
                name = mapped[0].rsplit(".", 1)[-1]
                if isinstance(item, list):
                    out[name] = [self.ref(key, v, mapped[1]) if isinstance(v, dict) else v for v in item]
                else:
                    out[name] = self.ref(key, item, mapped[1]) if isinstance(item, dict) else item
                if isinstance(value, LineDict):
                    out.key_lines[name] = value.key_lines.get(key, value.line)
                continue
            for suffix in ("Ref", "Selector", "Refs"):
                if key.endswith(suffix) and len(key) > len(suffix):
                    base = snake(key[: -len(suffix)])
                    if base not in out and key[: -len(suffix)] not in value:
                        if suffix == "Refs" and isinstance(item, list):
                            out[base] = [self.ref(key, v) for v in item]
                        else:
                            out[base] = self.ref(key, item, (_ref_kind(key[: -len(suffix)]),))
                        if isinstance(value, LineDict):
                            out.key_lines[base] = value.key_lines.get(key, value.line)
                    break
            else:
                name = snake(key)
                inner = f"{prefix}{key}." if refs else ""
                if name in _MAP_ARGS and isinstance(item, dict):
                    out[name] = dict(item)
                elif isinstance(item, dict):
                    out[name] = [self.snake_tree(item, refs, inner)]
                else:
                    out[name] = self.snake_tree(item, refs, inner)
                if isinstance(value, LineDict):
                    out.key_lines[name] = value.key_lines.get(key, value.line)
        return out


def _ref_kind(field: str) -> str:
    """``kmsKeyId`` -> "Key", ``bucket`` -> "Bucket", ``destinationBucket`` -> "Bucket"."""
    base = re.sub(r"(Id|ID|Arn|ARN|Name|Identifier)$", "", field) or field
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", base)
    return words[-1].capitalize() if words else field


def _translate(obj: _Object, builder: _Builder) -> Resource | None:
    group = obj.group
    if group.endswith(".upbound.io"):
        return _upbound(obj, builder)
    if group.endswith(".services.k8s.aws"):
        return _ack(obj, builder)
    if group.endswith(".cnrm.cloud.google.com"):
        return _kcc(obj, builder)
    if group.endswith(".azure.com"):
        return _aso(obj, builder)
    return None


def _spec(obj: _Object) -> dict[str, Any]:
    spec = obj.manifest.get("spec")
    return spec if isinstance(spec, dict) else {}


def _translated(
    obj: _Object,
    builder: _Builder,
    tf_type: str,
    attributes: dict[str, Any],
    provider: ProviderContext | None,
) -> Resource:
    extra = builder.extra(obj)
    extra["kubernetes_type"] = kube_type(obj.kind, obj.group)
    return Resource(
        type=tf_type,
        address=obj.address,
        file=obj.file,
        line=obj.line,
        attributes=attributes,
        source="kubernetes",
        provider=provider,
        extra=extra,
    )


def _upbound(obj: _Object, builder: _Builder) -> Resource | None:
    service = obj.group.removesuffix(".upbound.io").replace(".m.", ".")
    if service.endswith(".m"):
        service = service[:-2]
    tf_type = UPBOUND_TYPES.get((service, obj.kind))
    if tf_type is None:
        return None
    spec = _spec(obj)
    for_provider = _sub(spec, "forProvider")
    t = _Translation(obj, builder)
    attributes = t.snake_tree(for_provider)
    provider: ProviderContext | None
    if tf_type.startswith("aws_"):
        region = for_provider.get("region")
        provider = ProviderContext(
            "aws",
            region=str(region)
            if region
            else Unknown(
                f"spec.forProvider.region is not set on {obj.address} (it is required by the provider)"
            ),
            source=f"spec.forProvider.region ({t.where(for_provider, 'region')})",
        )
    elif tf_type.startswith("google_"):
        provider = ProviderContext(
            "google",
            region=Unknown("the Crossplane ProviderConfig's default region is not in the manifests"),
            source=f"Crossplane ProviderConfig for {obj.address}",
        )
    else:
        provider = ProviderContext("azurerm", source=f"Crossplane ProviderConfig for {obj.address}")
    return _translated(obj, builder, tf_type, attributes, provider)


def _ack_region(obj: _Object, builder: _Builder) -> tuple[str | Unknown, str]:
    annotations = obj.metadata.get("annotations")
    if isinstance(annotations, dict) and annotations.get("services.k8s.aws/region"):
        where = f"{obj.file}:{line_of(annotations, 'services.k8s.aws/region', obj.line)}"
        return str(annotations["services.k8s.aws/region"]), f"annotation services.k8s.aws/region ({where})"
    ns = builder.namespace_of(obj)
    if isinstance(ns, Unknown):
        return ns, f"Namespace of {obj.address}"
    if ns is not None:
        ns_annotations = ns.metadata.get("annotations")
        if isinstance(ns_annotations, dict):
            for key in ("services.k8s.aws/region", "services.k8s.aws/default-region"):
                if ns_annotations.get(key):
                    where = f"{ns.file}:{line_of(ns_annotations, key, ns.line)}"
                    return str(ns_annotations[key]), f"Namespace {ns.name} annotation {key} ({where})"
    return Unknown(
        "ACK controller default region is not in the manifests"
    ), f"ACK controller for {obj.address}"


def _ack(obj: _Object, builder: _Builder) -> Resource | None:
    service = obj.group.removesuffix(".services.k8s.aws")
    tf_type = ACK_TYPES.get((service, obj.kind))
    if tf_type is None:
        return None
    spec = _spec(obj)
    f = _Fields(obj, builder, tf_type)
    f.region, f.source = _ack_region(obj, builder)
    attrs = LineDict()
    if isinstance(spec, LineDict):
        attrs.line = spec.line
    if isinstance(f.region, str):
        attrs["region"] = f.region
    fields = _ATTRIBUTES["ack"].get(tf_type)
    if fields is None:
        attrs.update(f.t.snake_tree(spec))  # a kind without a mapping: its spec as Crossplane-style arguments
    else:
        _map_fields(fields, spec, f, attrs)
    provider = ProviderContext("aws", region=f.region, source=f.source)
    return _translated(obj, builder, tf_type, attrs, provider)


def _ack_ref(value: dict[str, Any]) -> dict[str, Any]:
    """ACK refs are ``{from: {name}}``; Crossplane and KCC refs are ``{name}``."""
    inner = value.get("from")
    return inner if isinstance(inner, dict) else value


_ZONE_RE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")


def _kcc(obj: _Object, builder: _Builder) -> Resource | None:
    service = obj.group.removesuffix(".cnrm.cloud.google.com")
    tf_type = KCC_TYPES.get((service, obj.kind))
    if tf_type is None:
        return None
    spec = _spec(obj)
    f = _Fields(obj, builder, tf_type)
    attrs = LineDict()
    attrs.line = line_of(spec, default=obj.line)
    derived = _KCC_DERIVED.get((service, obj.kind))
    fields = _ATTRIBUTES["kcc"].get(tf_type)
    if fields is None and derived is not None and derived.type == tf_type:
        _kcc_derived(derived, spec, f, attrs)
    else:
        _map_fields(fields or {}, spec, f, attrs)
    project, project_source = _kcc_project(obj, builder)
    if project:
        attrs.setdefault("project", project)
    _copy_lines(spec, attrs)
    provider = ProviderContext(
        "google",
        region=Unknown("Config Connector takes no default region from the manifests"),
        source=f"Config Connector for {obj.address}" + (f", project from {project_source}" if project else ""),
    )
    resource = _translated(obj, builder, f.tf_type, attrs, provider)
    if f.hint is not None:
        resource.location_hint = f.hint
    return resource


def _kcc_derived(kind: KccKind, spec: dict[str, Any], f: _Fields, attrs: LineDict) -> None:
    """A Terraform-based kind: its spec is the Terraform schema in camelCase, references per the table."""
    attrs.update(f.t.snake_tree({k: v for k, v in spec.items() if k != "resourceID"}, kind.refs))
    if kind.name and kind.name not in attrs:
        attrs[kind.name] = str(spec.get("resourceID") or f.obj.name)


_KCC_PROJECT = "cnrm.cloud.google.com/project-id"


def _kcc_project(obj: _Object, builder: _Builder) -> tuple[str | None, str]:
    """The project a KCC object is created in: its own annotation, else its Namespace's (the default)."""
    annotations = obj.metadata.get("annotations")
    if isinstance(annotations, dict) and annotations.get(_KCC_PROJECT):
        where = f"{obj.file}:{line_of(annotations, _KCC_PROJECT, obj.line)}"
        return str(annotations[_KCC_PROJECT]), f"annotation {_KCC_PROJECT} ({where})"
    ns = builder.namespace_of(obj)
    if isinstance(ns, Unknown):
        return None, ""
    ns_annotations = ns.metadata.get("annotations") if ns is not None else None
    if ns is not None and isinstance(ns_annotations, dict) and ns_annotations.get(_KCC_PROJECT):
        where = f"{ns.file}:{line_of(ns_annotations, _KCC_PROJECT, ns.line)}"
        return str(ns_annotations[_KCC_PROJECT]), f"Namespace {ns.name} annotation {_KCC_PROJECT} ({where})"
    return None, ""


def _copy_lines(spec: Any, attrs: LineDict) -> None:
    """Point translated arguments at the spec keys they came from, where the names match."""
    if isinstance(spec, LineDict):
        for key, line in spec.key_lines.items():
            attrs.key_lines.setdefault(snake(key), line)


def _aso(obj: _Object, builder: _Builder) -> Resource | None:
    service = obj.group.removesuffix(".azure.com")
    tf_type = ASO_TYPES.get((service, obj.kind))
    if tf_type is None:
        return None
    spec = _spec(obj)
    attrs = LineDict()
    attrs.line = line_of(spec, default=obj.line)
    attrs["name"] = spec.get("azureName", obj.name)
    location = spec.get("location")
    if not location:
        location = _aso_owner_location(obj, builder, spec)
    attrs["location"] = location
    parent_arg = _ASO_PARENT_ARGS.get(tf_type)
    owner = _sub(spec, "owner")
    if parent_arg and owner.get("name"):
        parent = _aso_owner(obj, builder, str(owner["name"]))
        attrs[parent_arg] = Ref(parent.address, "id") if parent is not None else str(owner["name"])
    elif parent_arg and owner.get("armId"):
        attrs[parent_arg] = str(owner["armId"])
    _map_fields(_ATTRIBUTES["aso"].get(tf_type) or {}, spec, _Fields(obj, builder, tf_type), attrs)
    _copy_lines(spec, attrs)
    return _translated(
        obj, builder, tf_type, attrs, ProviderContext("azurerm", source=f"ASO for {obj.address}")
    )


def _aso_owner(obj: _Object, builder: _Builder, name: str) -> _Object | None:
    """The ASO object named ``name`` in ``obj``'s namespace (an owner or a referenced server)."""
    found = [
        c
        for c in builder.by_name.get(name, ())
        if c.group.endswith(".azure.com") and c.namespace == obj.namespace and c is not obj
    ]
    found = _nearest(found, obj.namespace, obj)  # every ASO sample names its group aso-sample-rg
    return found[0] if len(found) == 1 else None


def _aso_owner_location(obj: _Object, builder: _Builder, spec: dict[str, Any], depth: int = 0) -> str | Unknown:
    """A child's location is its owner's: follow ``spec.owner`` (resource group, server, account) up."""
    owner = _sub(spec, "owner")
    name = owner.get("name")
    if not name:
        if owner.get("armId"):
            return Unknown(f"{obj.address} is owned by {owner['armId']}, which is not in the scan")
        return Unknown(f"{obj.address} has no spec.location and no spec.owner")
    parent = _aso_owner(obj, builder, str(name))
    if parent is None or depth > 8:
        return Unknown(f"{obj.address} inherits its location from owner {name}, which is not in the scan")
    parent_spec = _spec(parent)
    if parent_spec.get("location"):
        return str(parent_spec["location"])
    return _aso_owner_location(parent, builder, parent_spec, depth + 1)


# --------------------------------------------------------------------------------------------
# The one reader of data/operator_attributes.yaml (its header documents the operations).

_NOTHING = object()  # an operation that found nothing to read: the argument stays unset


class _Fields:
    """One object's mapping: the object, its refs, and what a hook may change (type, hint, ACK region)."""

    def __init__(self, obj: _Object, builder: _Builder, tf_type: str) -> None:
        self.obj, self.builder, self.tf_type = obj, builder, tf_type
        self.t = _Translation(obj, builder)
        self.hint: Location | None = None
        self.region: str | Unknown = ""
        self.source = ""


def _at(mapping: Any, path: str) -> tuple[Any, bool, Any, str]:
    """(value, written, the mapping holding it, its key) for a dotted path; a non-mapping step reads nothing."""
    *steps, last = path.split(".")
    for step in steps:
        mapping = mapping.get(step) if isinstance(mapping, dict) else None
    if not isinstance(mapping, dict):
        return None, False, None, last
    return mapping.get(last), last in mapping, mapping, last


def _map_fields(fields: dict[str, Any], source: Any, f: _Fields, out: dict[str, Any]) -> dict[str, Any]:
    """Apply one type's (or block's) ``argument: operation`` entries to ``source`` in order, into ``out``."""
    for arg, op in fields.items():
        if arg == "hook":
            _HOOKS[op](f, source, out)
        elif arg == "*":
            skip = set(op["snake_except"])
            out.update(f.t.snake_tree({k: v for k, v in source.items() if k not in skip}))
        else:
            value = _read(arg, {"from": op} if isinstance(op, str) else op, source, f, out)
            if value is not _NOTHING:
                out[arg] = value
    return out


def _read(arg: str, op: dict[str, Any], src: Any, f: _Fields, out: dict[str, Any]) -> Any:
    if "from" in op:
        value, written, holder, key = _at(src, op["from"])
        if "default" in op:  # written (even empty) wins, else the object's name
            return value if written else f.obj.name
        if "equals" in op:
            if value is None:
                return _NOTHING
            if isinstance(out, LineDict):
                out.key_lines[arg] = line_of(holder, key, f.obj.line)
            return str(value).lower() == op["equals"]
        condition = op.get("if", "set")
        if not {"set": value is not None, "truthy": bool(value), "present": written, "always": True}[condition]:
            return _NOTHING
        return list(value or []) if op.get("list") else str(value) if op.get("str") else value
    if "first" in op:
        for path in op["first"]:
            value = _at(src, path)[0]
            if value:
                return str(value) if op.get("str") else value
        if op.get("else") == "name":
            return f.obj.name
        return Ref(op["else_ref"]) if "else_ref" in op else _NOTHING
    if "ref" in op:
        value = src.get(op["ref"])
        if op.get("if", "truthy") == "truthy" and not value:
            return _NOTHING
        return f.t.ref(op["ref"], value, tuple(op["kinds"]))
    if "ack_key" in op:
        id_field, ref_field = op["ack_key"]
        if src.get(id_field):
            return src[id_field]
        if isinstance(src.get(ref_field), dict):
            return f.t.ref(ref_field, _ack_ref(src[ref_field]), ("Key",))
        return _NOTHING
    if "external_or_name" in op:
        value = src.get(op["external_or_name"])
        return value.get("external") or value.get("name") if isinstance(value, dict) else value
    if "aso_ref" in op:
        value = src.get(op["aso_ref"])
        if not isinstance(value, dict):
            return _NOTHING
        if value.get("name"):
            target = _aso_owner(f.obj, f.builder, str(value["name"]))
            return Ref(target.address, "id") if target else str(value["name"])
        return str(value["armId"]) if value.get("armId") else _NOTHING
    if "block" in op:
        value = _at(src, op["block"])[0]
        if not isinstance(value, dict):
            if not op.get("always"):
                return _NOTHING
            value = {}
        for path, expected in (op.get("when") or {}).items():
            got = _at(value, path)[0]
            if str(got if got is not None else "").lower() != expected:
                return _NOTHING
        inner = _map_fields(op["fields"], value, f, {})
        return [inner] if all(r in inner for r in op.get("require", ())) else _NOTHING
    items = []  # each
    for item in _at(src, op["each"])[0] or []:
        if not isinstance(item, dict):
            continue
        if "where_dict" in op and not isinstance(item.get(op["where_dict"]), dict):
            continue
        if "where_truthy" in op and not item.get(op["where_truthy"]):
            continue
        items.append(_map_fields(op["fields"], item, f, {}))
    return items if items or not op.get("nonempty") else _NOTHING


def _kms(f: _Fields, block: Any, field: str = "kmsKeyRef") -> Any:
    return f.t.ref(field, block.get(field), ("KMSCryptoKey",)) if isinstance(block, dict) and block.get(field) else None


# Hooks: what is not a field mapping, named from the table (``hook:``), run where the table lists them.


def _ack_location_constraint(f: _Fields, spec: Any, attrs: dict[str, Any]) -> None:
    """S3 creates the bucket where createBucketConfiguration.locationConstraint says (it wins over the region)."""
    constraint = spec.get("createBucketConfiguration")
    if isinstance(constraint, dict) and constraint.get("locationConstraint"):
        attrs["region"] = constraint["locationConstraint"]
        f.source = f"spec.createBucketConfiguration.locationConstraint ({f.t.where(constraint, 'locationConstraint')})"
        f.region = str(constraint["locationConstraint"])


def _kcc_bucket_default_location(f: _Fields, spec: Any, attrs: dict[str, Any]) -> None:
    """The CRD defaults spec.location to US: an omitted location is a US multi-region bucket."""
    if not spec.get("location"):
        f.hint = Location(
            "gcp",
            "US",
            f"the StorageBucket default: spec.location is not set, so Config Connector creates the "
            f"bucket in the US multi-region ({f.obj.file}:{f.obj.line})",
        )


def _kcc_disk_zone_or_region(f: _Fields, spec: Any, attrs: dict[str, Any]) -> None:
    """A ComputeDisk in a region (not a zone) is a regional disk, replicated to replicaZones."""
    location = spec.get("location")
    if isinstance(location, str) and not _ZONE_RE.match(location):
        f.tf_type = "google_compute_region_disk"
        attrs["region"] = location
        if spec.get("replicaZones"):
            attrs["replica_zones"] = list(spec["replicaZones"])
    elif location:
        attrs["zone"] = location
    key = _kms(f, spec.get("diskEncryptionKey"))
    if key is not None:
        field = "kms_key_name" if f.tf_type == "google_compute_region_disk" else "kms_key_self_link"
        attrs["disk_encryption_key"] = [{field: key}]


def _aso_storage_account(f: _Fields, spec: Any, attrs: dict[str, Any]) -> None:
    """sku.name is <tier>_<replication>; a Key Vault key source is a customer-managed key."""
    sku = _sub(spec, "sku")
    name = str(sku.get("name") or "")
    if name:
        tier, _, replication = name.partition("_")
        attrs["account_tier"] = tier
        attrs["account_replication_type"] = replication.upper()
    else:
        attrs["account_replication_type"] = Unknown(f"spec.sku.name is not set on {f.obj.address}")
    encryption = _sub(spec, "encryption")
    if str(encryption.get("keySource", "")).lower() == "microsoft.keyvault":
        props = encryption.get("keyvaultproperties") or encryption.get("keyVaultProperties") or {}
        attrs["customer_managed_key"] = [
            {
                "key_vault_key_id": (props.get("keyname") or props.get("keyName") or Ref("key vault key"))
                if isinstance(props, dict)
                else Ref("key vault key"),
            }
        ]


def _aso_cosmos_backup(f: _Fields, spec: Any, attrs: dict[str, Any]) -> None:
    """backupPolicy: continuous, or periodic with its storage redundancy (unset: the provider's Geo default)."""
    policy = spec.get("backupPolicy") if isinstance(spec.get("backupPolicy"), dict) else None
    if policy is None:
        return
    if isinstance(policy.get("continuous"), dict):
        attrs["backup"] = [{"type": "Continuous"}]
    elif isinstance(policy.get("periodic"), dict):
        props = policy["periodic"].get("periodicModeProperties")
        redundancy = props.get("backupStorageRedundancy") if isinstance(props, dict) else None
        block: dict[str, Any] = {"type": "Periodic"}
        if redundancy is not None:
            block["storage_redundancy"] = redundancy
        attrs["backup"] = [block]


_HOOKS: dict[str, Callable[[_Fields, Any, dict[str, Any]], None]] = {
    "ack_location_constraint": _ack_location_constraint,
    "kcc_bucket_default_location": _kcc_bucket_default_location,
    "kcc_disk_zone_or_region": _kcc_disk_zone_or_region,
    "aso_storage_account": _aso_storage_account,
    "aso_cosmos_backup": _aso_cosmos_backup,
}


def _hooks_named(fields: dict[str, Any]) -> Iterable[str]:
    for arg, op in fields.items():
        if arg == "hook":
            yield op
        elif isinstance(op, dict) and "fields" in op:
            yield from _hooks_named(op["fields"])


_unknown_hooks = sorted(
    {h for types in _ATTRIBUTES.values() for fields in types.values() for h in _hooks_named(fields)} - set(_HOOKS)
)
if _unknown_hooks:  # at import, like every other table mistake
    raise TableError(f"operator_attributes.yaml: unknown hooks {_unknown_hooks}; known: {', '.join(_HOOKS)}")
