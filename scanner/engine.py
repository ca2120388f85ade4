"""The pure engine: ``scan(options) -> Report``. The CLI only parses options and formats.

discover -> load -> classify -> rules -> policy (exemptions, waivers, severities, baseline).
Each stage only feeds the next; nothing here parses syntax or formats output.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scanner import __version__, waivers
from scanner.baseline import load_baseline
from scanner.cache import (
    ParseCache,
    default_cache_dir,
    file_digest,
    max_cache_bytes,
    prune,
    usable_cpus,
    wrote_entries,
)
from scanner.discover import WALKED_STATE_NOTE, discover, find_scan_root, json_kind, nothing_to_scan, rel
from scanner.errors import ResidencyError
from scanner.limits import Admission, Limits, oversize, size_guarded, too_big_message
from scanner.model import (
    Category,
    DataStoreFacts,
    Finding,
    LoadResult,
    Note,
    Problem,
    Report,
    Resource,
    RuleInfo,
    Severity,
    Violation,
    Waiver,
)
from scanner.parse_pool import ParsePool, TerraformParser, YamlParser, _digest
from scanner.policy import Policy
from scanner.results import ResultCache, UnitResult, resource_ident, terraform_units
from scanner.shard import plan_shard


@dataclass
class ScanOptions:
    """Everything a scan needs besides the policy; defaults are what a bare ``residency scan`` does."""

    paths: list[Path]
    cwd: Path = field(default_factory=Path.cwd)
    stdin: bytes | None = None  # manifests or a plan piped in as "-"
    stdin_name: str = "-"
    var_files: list[Path] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] | None = None  # TF_VAR_* only when the user asked for --env-vars
    plan_files: list[Path] = field(default_factory=list)
    source_dir: Path | None = None
    cluster_region: str | None = None
    fail_on: Severity = Severity.LOW
    baseline: Path | None = None
    jobs: int | None = None
    use_cache: bool = True
    limits: Limits = field(default_factory=Limits)  # per-kind file size limits (--max-file-size)
    today: date = field(default_factory=date.today)
    shard: tuple[int, int] | None = None  # --shard I/N: only this shard's units (scanner.shard)
    keep_facts: bool = False  # the inventory needs every data store's facts: no judged-result cache then


def scan(options: ScanOptions, policy: Policy) -> Report:
    """Run one scan. Files that cannot be read become findings; nothing is skipped silently."""
    for path in options.paths:
        if not path.exists() and not path.is_symlink():  # a typo, not a finding: nothing was scanned
            raise ResidencyError(f"no such file or directory: {path}")
    for flag, files in (("--plan", options.plan_files), ("--var-file", options.var_files)):
        for path in files:  # a named input that cannot be read is a typo, not a finding (and never a silent pass)
            full = options.cwd / path
            if not full.is_file():
                reason = "no such file" if not full.exists() else "not a regular file"
                raise ResidencyError(f"{flag} {path}: {reason}")
            if not os.access(full, os.R_OK):
                raise ResidencyError(f"{flag} {path}: not readable")
    cache_cap = max_cache_bytes() if options.use_cache else None  # a malformed cap is a usage error, up front
    root = find_scan_root(options.paths or [options.cwd], options.cwd)
    excluded = _excluder(policy, root)
    found = discover(list(options.paths), root, excluded)
    found.plans.extend(p.resolve() for p in options.plan_files if p.resolve() not in found.plans)
    if options.shard is not None:
        _keep_shard(found, root, options.shard)

    judge_unit = _Judge(policy, None, options, root)
    results = _result_cache(options, policy)
    units: list[UnitResult] = []
    pre = LoadResult()  # what discovery refused or noticed: judged every time (nothing to parse)
    for path, reason in found.refused:
        pre.problems.append(Problem(Category.PARSE, rel(path, root), 1, f"not scanned: {reason}",
                                    "Keep scanned files inside the repository; links are not followed."))
    for path, message, fix in found.unscannable:
        pre.problems.append(Problem(Category.PARSE, rel(path, root), 1, message, fix))
    for path in found.helm_templates:
        pre.notes.append(Note(rel(path, root), "Helm template skipped: render it first "
                              "(helm template ... | residency scan -)"))
    for path in found.state_files:
        pre.notes.append(Note(rel(path, root), WALKED_STATE_NOTE))
    pre.files += found.ignored + len(found.helm_templates) + len(found.state_files)
    units.append(judge_unit(pre))

    # One pool of parse workers for the whole scan (forked only if something is cold): Terraform files
    # first, then the YAML files, which the workers parse while this process evaluates Terraform.
    jobs = options.jobs or usable_cpus()
    pool = ParsePool(jobs) if jobs > 1 else None
    try:
        yaml_read = LoadResult()  # problems of YAML files too big or unreadable, merged in their old place
        yaml_inputs = list(_read_yaml(found.yaml_files, root, yaml_read, options.limits))
        # Manifests: the files that take part in a cross-file judgement are one unit, each other file one of
        # its own (scanner/loaders/manifest_groups.py); a unit's result is keyed by its files' bytes.
        from scanner.loaders.manifest_groups import manifest_units  # lazy: start-up (the checkov adapter: no loaders)

        groups = manifest_units(yaml_inputs) if options.stdin is None else (
            [list(range(len(yaml_inputs)))] if yaml_inputs else [])
        k8s_keys: list[str | None] = []
        k8s_hits: list[UnitResult | None] = []
        for group in groups:
            key = None if results is None or options.stdin is not None else results.key("kubernetes", (
                str(root), [(yaml_inputs[i][0], _bytes_digest(yaml_inputs[i][1])) for i in group]))
            k8s_keys.append(key)
            k8s_hits.append(results.get(key) if results is not None and key is not None else None)
        cold_yaml = [yaml_inputs[i] for group, hit in zip(groups, k8s_hits, strict=True) if hit is None for i in group]
        yaml_parser = YamlParser(_parse_cache(options), jobs, pool=pool, close_pool=True)

        def prefetch() -> None:
            yaml_parser.prefetch(cold_yaml)

        if found.terraform_dirs:
            planned, tf_units = _load_terraform(found.terraform_dirs, root, options, policy, pool, judge_unit, results,
                                                then=prefetch)
            units.append(judge_unit(planned, keyed=True))
            units.extend(tf_units)
        else:
            prefetch()
        if pool is not None and not cold_yaml:
            pool.close()  # Terraform is loaded: idle workers would only hold memory
        for plan in found.plans:
            units.append(judge_unit(_load_plan(plan, root, options)))
        units.append(judge_unit(yaml_read))
        stdin_yaml = False  # standard input went to the Kubernetes loader
        if options.stdin is not None:
            stdin_result = _load_stdin(options, root)
            if stdin_result is not None:
                units.append(judge_unit(stdin_result))
            elif len(options.stdin) > options.limits.max_source_bytes:
                too_big = too_big_message("YAML", len(options.stdin), options.limits.max_source_bytes)
                units.append(judge_unit(LoadResult(problems=[Problem(Category.PARSE, options.stdin_name, 1, too_big,
                                                                     "Split the input into smaller files.")])))
            else:
                yaml_inputs.append((options.stdin_name, options.stdin))
                cold_yaml.append((options.stdin_name, options.stdin))
                stdin_yaml = True
                groups, k8s_keys, k8s_hits = [list(range(len(yaml_inputs)))], [None], [None]  # judged together
        # One unit at a time: its parse trees are held only while it is loaded and judged.
        parts: list[tuple[list[int], UnitResult]] = []
        for group, key, hit in zip(groups, k8s_keys, k8s_hits, strict=True):
            if hit is not None:
                parts.append((group, hit))
                continue
            k8s = _load_kubernetes([yaml_inputs[i] for i in group], policy, options, root, yaml_parser.some)
            if stdin_yaml and not any(r.file == options.stdin_name for r in k8s.resources) and not any(
                    p.file == options.stdin_name for p in k8s.problems):
                _nothing_on_stdin(k8s, options, "no-objects")
            parts.append((group, judge_unit(k8s, kind="kubernetes")))
            if key is not None and results is not None:
                results.put(key, parts[-1][1])
        yaml_parser.close()
        if parts:
            units.append(_join_manifest_units(parts, [name for name, _ in yaml_inputs]))
    finally:
        if pool is not None:
            pool.close()
    if cache_cap is not None and wrote_entries():  # keep the cache under its cap (least recently used go first)
        prune(default_cache_dir(), cache_cap)
    return _report(units, judge_unit, options, policy, root)


def _report(units: list[UnitResult], judge_unit: _Judge, options: ScanOptions, policy: Policy, root: Path) -> Report:
    """Join the units' results as one whole-scan run would have: plan wins, dedupe, baseline, order."""
    covered: dict[str, str] = {}  # root dir -> plan file: its .tf resources are reported from the plan
    for u in units:
        for d, plan in u.covers.items():
            covered.setdefault(d, plan)
    findings: list[Finding] = []
    seen: set[tuple] = set()
    loader_notes: list[Note] = []
    unknown_notes: list[Note] = []
    eval_notes: list[Note] = []
    files = resources = unknown = stores = 0
    names: set[str] = set()
    facts: list[DataStoreFacts] = []
    shadowed: set[str] = set()
    collapsed: set[tuple[str, str]] = set()
    for u in units:
        dropped = u.kind == "terraform" and u.root_dir in covered
        for key, finding in u.keyed:
            if key not in seen and not (dropped and key[0] != "problem"):  # a root's loader problems stay
                seen.add(key)
                findings.append(finding)
        files += u.files
        names.update(u.file_names)
        loader_notes.extend(u.loader_notes)
        if dropped:
            if u.resources and u.root_dir is not None:
                shadowed.add(u.root_dir)
            continue
        collapsed.update(u.collapsed)
        findings.extend(u.findings)
        unknown_notes.extend(u.unknown_notes)
        eval_notes.extend(u.eval_notes)
        resources += u.resources
        unknown += u.unknown
        stores += u.stores
        facts.extend(u.facts)
    for root_dir in sorted(shadowed):
        loader_notes.append(Note(root_dir, f"root {root_dir} is reported from its plan {covered[root_dir]} (resolved "
                                 "values), not from its .tf files; findings point at the .tf lines"))
    for caller, dir_ in sorted(collapsed, key=str):
        loader_notes.append(Note(dir_, f"module {dir_} is a root of its own and is called by root {caller}: "
                                       f"its resources are reported once, from {dir_}, where the values are the same"))
    findings.extend(judge_unit.policy_waiver_findings())

    fixed: list[dict[str, str]] = []
    if options.baseline is not None:
        findings, fixed = load_baseline(options.baseline).apply(findings)

    findings.sort(key=lambda f: (f.file, f.line, f.rule_id, f.resource))
    return Report(
        findings=findings,
        rules=describe(judge_unit.rules, findings) if findings else {},
        notes=_policy_notes(policy, root) + loader_notes + unknown_notes + eval_notes,
        files=files + len(names),
        resources=resources,
        unknown_types=unknown,
        data_stores=[f for f in facts if f.holds_user_data],
        grants=[f for f in facts if f.role == "grant"],
        flows=[f for f in facts if f.role == "flow"],
        data_store_count=stores,
        scan_root=str(root),
        policy_path=str(policy.path) if policy.path else None,
        fixed=fixed,
        tool_version=__version__,
        shard=options.shard,
        policy_digest=_policy_digest(policy),
    )


class _Judge:
    """Judge one unit's load on its own: unknown types, classify, rules, problems, inline waivers.

    Addresses are unique within a unit and no rule looks across units, so a scan's findings are the
    union of its units' (loader problems and inline-waiver findings deduplicated across units by key,
    as a whole-scan run met each once). That is what lets a unit's result be cached.
    """

    def __init__(self, policy: Policy, rules: dict[str, Any] | None, options: ScanOptions, root: Path) -> None:
        self.policy = policy
        self._rules = rules  # None: the registry, imported when a unit is first judged (never on a warm hit)
        self.options = options
        self.root = root
        self.policy_dates = tuple(sorted({pw.expires.isoformat() for pw in policy.waivers if pw.expires}))

    @property
    def rules(self) -> dict[str, Any]:
        if self._rules is None:
            self._rules = rule_registry()
        return self._rules

    def __call__(self, load: LoadResult, kind: str = "other", root_dir: str | None = None,
                 file_names: tuple[str, ...] | None = None, keyed: bool = False) -> UnitResult:
        """``keyed``: the load is (part of) a Terraform run, whose problems a whole run reports once."""
        if not load.resources and not load.problems:  # nothing to judge (a scan's discovery unit, mostly)
            return UnitResult(kind=kind, loader_notes=list(load.notes), files=load.files if file_names is None else 0,
                              file_names=file_names or (), root_dir=root_dir, made_on=self.options.today.isoformat(),
                              dates=self.policy_dates)
        from scanner.unknown_types import find as find_unknown_types  # lazy: start-up (checks/: judged units only)

        policy, rules, options, root = self.policy, self.rules, self.options, self.root
        resources = load.resources
        unknown = find_unknown_types(resources, policy.unknown_types)
        facts = classify(resources, policy)
        load_problems, module_notes = _registry_modules(load.problems, policy)
        problems = [*load_problems, *unknown.problems]
        judged = judge(facts, policy, options, root, resources=resources,
                       raised=problem_violations(problems, rules), rules=rules, policy_waivers=False)
        eval_notes, directives = judged.notes, judged.directives
        n_loader = len(load_problems)
        if policy.registry_modules == "warn":
            # terraform.registry_modules: warn (pre-commit, no `terraform init`): the call is shown, not blocking;
            # a store that reads an unknown value from it keeps its own blocking finding
            judged.raised = [(i, dataclasses.replace(f, blocking=False)
                              if i < n_loader and problems[i].module_source else f) for i, f in judged.raised]
        loader_out = [f for i, f in judged.raised if i < n_loader]
        unknown_out = [f for i, f in judged.raised if i >= n_loader]
        problem_keyed = [(("problem", problems[i].category.value, problems[i].file, problems[i].line,
                           problems[i].message), f) for i, f in judged.raised if i < n_loader]
        covers: dict[str, str] = {}
        for r in resources:
            if r.source == "plan" and r.extra.get("source_file") and r.root_dir is not None:
                covers.setdefault(r.root_dir, r.file)
        dates = set(self.policy_dates)
        for blocks in directives.blocks.values():
            for _start, _end, r in blocks:
                dates.update(spec.expires.isoformat() for spec in directives.specs(r) if spec.expires is not None)
        stores = [f for f in facts if f.holds_user_data]
        return UnitResult(
            kind=kind,
            findings=judged.findings + ([] if keyed else loader_out) + unknown_out,
            keyed=(problem_keyed if keyed else []) + [(("waiver", *k), f) for k, f in judged.waivers],
            loader_notes=list(load.notes) + module_notes,
            unknown_notes=list(unknown.notes),
            eval_notes=eval_notes,
            files=load.files if file_names is None else 0,
            file_names=file_names or (),
            resources=len(resources),
            unknown=unknown.resources,
            stores=len(stores),
            root_dir=root_dir,
            covers=covers,
            made_on=options.today.isoformat(),
            dates=tuple(sorted(dates)),
            # the inventory's facts: every data store, the grants that say who can reach them, the pipes
            facts=[f for f in facts if f.holds_user_data or f.role in ("grant", "flow")] if options.keep_facts else [],
        )

    def policy_waiver_findings(self) -> list[Finding]:
        """Expired policy waivers: one finding each per scan, whatever the units."""
        if not any(pw.expires is not None and pw.expires < self.options.today for pw in self.policy.waivers):
            return []  # the registry is not needed
        return _policy_waiver_findings(self.policy, self.rules, self.options)


def rule_registry() -> dict[str, Any]:
    """The rules (checks.rules.RULES), imported on first use: a scan answered from the result cache
    judges nothing, and importing checks/ (rules, catalog, tables) is most of its start-up."""
    from checks.rules import RULES  # lazy: start-up (checks/ and its tables: a warm hit judges nothing)

    return RULES


def _join_manifest_units(parts: list[tuple[list[int], UnitResult]], names: list[str]) -> UnitResult:
    """The manifests' units as one: notes and facts back in file order (as one pass over the files gives)."""
    if len(parts) == 1:
        return parts[0][1]
    order = {name: i for i, name in enumerate(names)}

    def by_file(items: list[Any], file_of: Any) -> list[Any]:
        return sorted(items, key=lambda x: order.get(file_of(x), len(order)))

    units = [u for _, u in parts]
    return UnitResult(
        kind="kubernetes",
        findings=[f for u in units for f in u.findings],
        keyed=[k for u in units for k in u.keyed],
        loader_notes=by_file([n for u in units for n in u.loader_notes], lambda n: n.file),
        unknown_notes=by_file([n for u in units for n in u.unknown_notes], lambda n: n.file),
        eval_notes=by_file([n for u in units for n in u.eval_notes], lambda n: n.file),
        files=sum(u.files for u in units), resources=sum(u.resources for u in units),
        unknown=sum(u.unknown for u in units), stores=sum(u.stores for u in units),
        facts=by_file([f for u in units for f in u.facts], lambda f: f.resource.file),
    )


def _bytes_digest(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _result_cache(options: ScanOptions, policy: Policy) -> ResultCache | None:
    """Judged results per unit, beside the parse cache; off with --no-cache and for an inventory (facts)."""
    if not options.use_cache or options.keep_facts:
        return None
    salt = repr((__version__, str(options.cwd.resolve()), _policy_digest(policy), options.limits,
                 options.fail_on.value, options.cluster_region, str(options.source_dir),
                 sorted(options.variables.items()),
                 None if options.env is None else sorted((k, v) for k, v in options.env.items()
                                                         if k.startswith("TF_VAR_")),
                 [(str(p), _file_state(options.cwd / p)) for p in options.var_files]))
    return ResultCache(_parse_cache(options), salt, options.today)


def _file_state(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _keep_shard(found: Any, root: Path, shard: tuple[int, int]) -> None:
    """Narrow a discovery to one shard's units: whole Terraform roots and single files."""
    files = [*found.plans, *found.helm_templates, *(p for p, _ in found.refused),
             *(p for p, _m, _f in found.unscannable)]
    plan = plan_shard(found.terraform_dirs, files, root, shard, manifests=found.yaml_files)
    found.terraform_dirs = plan.terraform_dirs
    found.plans = [p for p in found.plans if plan.keep_file(p)]
    found.yaml_files = [p for p in found.yaml_files if plan.keep_file(p)]
    found.helm_templates = [p for p in found.helm_templates if plan.keep_file(p)]
    found.refused = [r for r in found.refused if plan.keep_file(r[0])]
    found.unscannable = [u for u in found.unscannable if plan.keep_file(u[0])]
    found.ignored = found.ignored if shard[0] == 1 else 0  # counted once across the shards
    found.state_files = found.state_files if shard[0] == 1 else []  # noted once across the shards


# --- load -------------------------------------------------------------------------------------


def _excluder(policy: Policy, root: Path):
    def excluded(rel_to_root: str) -> bool:
        rel_to_policy = _relative_to_policy(policy.base_dir, root, rel_to_root)
        return rel_to_policy is not None and policy.is_excluded(rel_to_policy)

    return excluded


def _read_yaml(paths: Iterable[Path], root: Path, loaded: LoadResult, limits: Limits) -> Iterator[tuple[str, bytes]]:
    """(root-relative name, bytes) of each YAML file, read once; too big or unreadable ones become problems."""
    for path in paths:
        size = oversize(path, limits.max_source_bytes)
        if size is not None:  # checked before reading: a huge file costs nothing
            loaded.problems.append(Problem(Category.PARSE, rel(path, root), 1,
                                           too_big_message("YAML", size, limits.max_source_bytes),
                                           "Split the file, or raise --max-file-size if it is genuine."))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            loaded.problems.append(Problem(Category.PARSE, rel(path, root), 1, f"cannot read file: {exc.strerror}",
                                           "Make the file readable by the scanner."))
            continue
        yield rel(path, root), data


def policy_rel(policy: Policy, root: Path, rel_to_root: str) -> str:
    """Policy globs are relative to the policy file's directory; reports are relative to the root."""
    rel_to_policy = _relative_to_policy(policy.base_dir, root, rel_to_root)
    return rel_to_root if rel_to_policy is None else rel_to_policy


@functools.lru_cache(maxsize=65536)
def _relative_to_policy(base_dir: Path, root: Path, rel_to_root: str) -> str | None:
    """A root-relative path made relative to the policy's directory; None when it lies outside it.

    Memoised and string-only: discovery asks for every file and directory walked (excludes), rules
    once per resource (scopes), and paths under the scan root are already real (discovery resolved
    them), so only the policy directory needs resolving, once.
    """
    base = _real_dir(base_dir)
    if base == str(root) and _plain_relative(rel_to_root):  # the policy at the root: already relative to it
        return rel_to_root
    rel = os.path.relpath(os.path.join(root, rel_to_root), base)
    if rel == ".." or rel.startswith(("../", "..\\")):
        return None
    return "." if rel == "." else rel.replace(os.sep, "/")


def _plain_relative(path: str) -> bool:
    """A normalised relative path (no ``.``/``..``/empty segment): joining and relpath give it back."""
    return (path == "." or (bool(path) and not path.startswith("/") and "\\" not in path
                            and all(part not in ("", ".", "..") for part in path.split("/"))))


@functools.lru_cache(maxsize=64)
def _real_dir(path: Path) -> str:
    return str(path.resolve())


def _load_terraform(dirs: list[Path], root: Path, options: ScanOptions, policy: Policy, pool: Any, judge_unit: _Judge,
                    results: ResultCache | None, then: Any = None) -> tuple[LoadResult, list[UnitResult]]:
    """Each evaluation root of ``dirs`` judged on its own: from the result cache, or parsed (in workers
    when cold), evaluated and judged. Returns the plan step's load (terragrunt, notes) and the units."""
    from scanner.roots import RootContext  # lazy: start-up (Terraform roots only)

    def root_context(rel_dir: str) -> RootContext | None:
        match = policy.root_for(policy_rel(policy, root, rel_dir))
        if match is None:
            return None
        return RootContext(region=match.region,
                           var_files=[root / rel_dir / v for v in match.var_files],  # relative to the root module
                           source=f"policy terraform.roots ({_display(policy)})")

    parser = TerraformParser(root, _parse_cache(options), options.jobs or usable_cpus(), pool=pool)
    limit = options.limits.max_terraform_bytes
    var_files = [(options.cwd / p) for p in options.var_files]

    def tf_options() -> Any:  # only when something is loaded: a warm scan imports no loader
        from checks.flows import FLOW_TYPES  # lazy: start-up (checks/: Terraform evaluated, not from cache)
        from scanner.loaders.hcl_parse import ParseError  # lazy: start-up (hcl2, lark)
        from scanner.loaders.terraform import TerraformOptions  # lazy: start-up (hcl2, lark)

        return TerraformOptions(
            var_files=var_files,
            variables=dict(options.variables),
            env=options.env,
            root_context=root_context,
            parse=size_guarded(parser, root, limit, allow=var_files, error=ParseError),
            discovery_parse=size_guarded(parser.discovery, root, limit, error=ParseError),
            attribute_lines=FLOW_TYPES,
        )

    named = frozenset(p.resolve() for p in var_files)
    accept = Admission(root, limit, named)  # one per load: each directory resolved once

    def extra_key(rel_root: str) -> Any:
        # The policy's context of a root and its var files by content (a var file that does not exist yet
        # is an input too: it is never parsed, so no recorded input would notice it appear).
        ctx = root_context(rel_root)
        return None if ctx is None else (repr(ctx), [(str(p), _digest(p, accept)) for p in ctx.var_files])

    def judge_root(load: LoadResult, rel_root: str | None, names: tuple[str, ...]) -> UnitResult:
        return judge_unit(load, kind="terraform", root_dir=rel_root, file_names=names, keyed=True)

    def dedupe(resources: list[Resource], idents: dict[str, frozenset[str]]) -> tuple[list[Resource], list]:
        return _once_per_root(resources, idents, policy, root)

    return terraform_units(dirs, root, tf_options, parser, accept, results, judge_root, then=then,
                           extra_key=extra_key, dedupe=dedupe)


def _once_per_root(resources: list[Resource], idents: dict[str, frozenset[str]], policy: Policy,
                   root: Path) -> tuple[list[Resource], list[tuple[str, str]]]:
    """A module dir evaluated as a root of its own and also through a root that calls it (an example a
    test fixture calls) reports each data store once: the caller's copy goes when it is the same
    declaration with the same values (addresses compared without the caller's module prefix) and the
    policy gives both roots the same allowed regions. A copy with other values, or judged under
    another scope, stays: never fewer blocking results than the two evaluations would give.

    ``resources`` are one caller's; ``idents`` the dirs' own (results.resource_ident, by root dir).
    Returns the kept resources and the (caller, dir) pairs reported once."""
    def scope(root_dir: str | None) -> tuple:
        where = policy_rel(policy, root, root_dir or ".")
        return policy.allowed_for(where), policy.access_allowed_for(where)

    kept: list[Resource] = []
    collapsed: set[tuple[str, str]] = set()
    for r in resources:
        mark = r.extra.get("also_root")
        if mark is not None:
            dir_, prefix = mark
            if resource_ident(r, prefix) in idents.get(dir_, frozenset()) and scope(dir_) == scope(r.root_dir):
                collapsed.add((r.root_dir or "", dir_))
                continue
        kept.append(r)
    return kept, sorted(collapsed, key=str)


def _policy_digest(policy: Policy) -> str:
    """The policy file's content digest (or of --allowed-regions): shards to merge must share it."""
    import hashlib

    digest = "regions:" + hashlib.blake2b(repr(policy.allowed).encode(), digest_size=16).hexdigest()
    if policy.path is not None:
        try:
            digest = file_digest(policy.path)
        except OSError as exc:
            digest = f"unreadable:{exc.errno}"
    return digest


def _parse_cache(options: ScanOptions) -> ParseCache:
    return ParseCache(default_cache_dir() if options.use_cache else None)


def _load_plan(path: Path, root: Path, options: ScanOptions) -> LoadResult:
    from scanner.loaders.tfplan import load_plan  # lazy: start-up (plan loader only for plans)

    return load_plan(path, root, source_dir=options.source_dir, max_bytes=options.limits.max_plan_bytes)


def _nothing_on_stdin(loaded: LoadResult, options: ScanOptions, kind: str) -> None:
    """Standard input that held nothing to scan: a parse finding, so a failed producer is never green."""
    message, fix = nothing_to_scan(kind, "standard input")
    loaded.problems.append(Problem(Category.PARSE, options.stdin_name, 1, message, fix))


def _load_stdin(options: ScanOptions, root: Path) -> LoadResult | None:
    """A plan piped on stdin is loaded as a plan; empty input is a finding; the rest goes to Kubernetes."""
    data = options.stdin or b""
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    if json_kind(head) == "empty" and not data[_HEAD:].strip():
        empty = LoadResult(files=1)
        _nothing_on_stdin(empty, options, "empty")
        return empty
    if head.startswith(b"{") and b'"format_version"' in head:
        from scanner.loaders.tfplan import load_plan_bytes  # lazy: start-up (plan loader only for plans)

        return load_plan_bytes(data, options.stdin_name, root, source_dir=options.source_dir,
                               max_bytes=options.limits.max_plan_bytes)
    return None


_HEAD = 1 << 16


def _load_kubernetes(inputs: list[tuple[str, bytes]], policy: Policy, options: ScanOptions,
                     root: Path, parse: Any) -> LoadResult:
    from scanner.loaders.kubernetes import load_kubernetes  # lazy: start-up (YAML loader only for manifests)

    def cluster_region(rel_path: str) -> tuple[str | None, str | None, str] | None:
        # --cluster-region: the cluster of stdin, and of every Kubernetes file the policy's kubernetes.clusters
        # does not map (a mapped path keeps its own cluster: the flag must not move a US path into the EU).
        # It used to be dropped without a word when paths were given (issue 16 step 5).
        if rel_path == options.stdin_name and options.cluster_region:
            return options.cluster_region, None, "--cluster-region"
        cluster = policy.cluster_for(policy_rel(policy, root, rel_path))
        if cluster is None:
            return (options.cluster_region, None, "--cluster-region") if options.cluster_region else None
        return cluster.region, cluster.cloud, f"policy kubernetes.clusters ({_display(policy)})"

    return load_kubernetes(inputs, cluster_region=cluster_region, parse=parse)


def _display(policy: Policy) -> str:
    return policy.path.name if policy.path else "--allowed-regions"


# --- classify and judge -----------------------------------------------------------------------


def classify(resources: list[Resource], policy: Policy) -> list[DataStoreFacts]:
    """The catalog turns resources into facts; Kubernetes-native kinds have their own classifier.

    Joins (an encryption configuration to its bucket, a replica to its source) are by address, and
    addresses are unique only within one unit (a Terraform root, a plan, a manifest file), so each
    unit is classified on its own.
    """
    from checks.catalog import classify as classify_cloud  # lazy: start-up (checks/: judged units only)
    from checks.catalog import load_catalog  # lazy: start-up (checks/: judged units only)
    from checks.flows import link_flows, read_flows  # lazy: start-up (checks/: judged units only)
    from checks.grant_sources import link_grants, read_grants  # lazy: start-up (checks/: judged units only)
    from checks.kubernetes import classify_kubernetes  # lazy: start-up (checks/: judged units only)

    prefixes = load_catalog().terraform_prefixes()
    units: dict[str, list[Resource]] = {}
    for r in resources:
        units.setdefault(_unit(r), []).append(r)
    facts: list[DataStoreFacts] = []
    for members in units.values():
        native = [r for r in members if _kubernetes_native(r, prefixes)]
        cloud = [r for r in members if not _kubernetes_native(r, prefixes)]
        if cloud:
            facts.extend(classify_cloud(cloud, policy.catalog))
        if native:
            facts.extend(classify_kubernetes(native, policy.catalog))
    # The pipes (RES007): one FlowFacts (role "flow") per resource that sends data somewhere; a
    # dictionary lookup for every Terraform type that is no pipe.
    flows, grants = [], []
    for r in resources:
        flow_facts = read_flows(r)
        if flow_facts is not None:
            flows.append(flow_facts)
            facts.append(flow_facts)  # type: ignore[arg-type]  # a Fact of role "flow", routed by role
        # The grants (RES006): who a resource policy / IAM member lets reach a store (role "grant").
        grant_facts = read_grants(r)
        if grant_facts is not None:
            grants.append(grant_facts)
            facts.append(grant_facts)  # type: ignore[arg-type]  # a Fact of role "grant", routed by role
    link_flows(flows, resources, _unit)  # a referenced destination that is no store: where it runs
    link_grants(grants, resources, _unit)  # a scope named by reference: that resource group's name
    return facts


def _kubernetes_native(r: Resource, prefixes: tuple[str, ...]) -> bool:
    """A Kubernetes kind of its own (Deployment, StorageClass); operator resources carry a cloud type.

    ``prefixes``: every cloud's Terraform type-name prefixes (``clouds:`` in checks/datastores.yaml).
    """
    return r.source == "kubernetes" and not r.type.startswith(prefixes)


def scope_path(resource: Resource) -> str:
    """Terraform scopes match the root module directory; other files match their path."""
    return resource.root_dir if resource.root_dir is not None else resource.file


@dataclass
class Judgement:
    """What :func:`judge` made of a set of facts, each kind of finding apart (all waived already)."""

    findings: list[Finding]  # what the rules yielded
    notes: list[Note]
    judged: set[str] = field(default_factory=set)  # ids of the rules that judged at least one fact
    exempt: dict[str, list[str]] = field(default_factory=dict)  # rule id -> why facts it would judge are exempt
    raised: list[tuple[int, Finding]] = field(default_factory=list)  # (index in ``raised``, finding); rule off: none
    waivers: list[tuple[tuple[str, int, str], Finding]] = field(default_factory=list)  # bad inline waivers, keyed
    expired: list[Finding] = field(default_factory=list)  # expired policy waivers (``policy_waivers=True``)
    directives: Any = None  # the inline waiver directives read from ``resources`` (_Directives)

    @property
    def all_findings(self) -> list[Finding]:
        return self.findings + [f for _, f in self.raised] + [f for _, f in self.waivers] + self.expired


Raised = tuple[Any, Violation, Resource]  # (rule, violation, resource): raised outside the rules' routing


def judge(facts: list[DataStoreFacts], policy: Policy, options: ScanOptions, root: Path, *,
          resources: Iterable[Resource] = (), raised: Iterable[Raised] = (),
          rules: dict[str, Any] | None = None, policy_waivers: bool = True) -> Judgement:
    """The one judging path: each unit of a scan (``_Judge``, so ``scan``, ``inventory``, ``baseline``)
    and the checkov adapter.

    Exemptions, enabled rules and their options, severity overrides and blocking (:func:`stamp`),
    then waivers: inline directives on ``resources`` (malformed or expired ones are RES902 findings)
    and the policy's waivers, whose ``paths:`` are matched relative to the policy file. ``raised`` are
    violations made outside the rules' routing (parse problems, checkov's provider blocks): stamped
    and waived the same way, dropped when their rule is switched off. Expired policy waivers are
    findings when ``policy_waivers`` (a scan of several units asks once).
    """
    rules = rule_registry() if rules is None else rules
    resources = list(resources)
    judgement = Judgement([], [])
    rule_findings, judgement.notes = evaluate(facts, policy, rules, options, root, judgement)
    stamped = [(i, stamp(rule, v, resource, policy, options)) for i, (rule, v, resource) in enumerate(raised)
               if enabled(policy, rule.id)]
    directives = judgement.directives = _Directives(resources)
    inline = _inline_waiver_findings(directives, policy, rules, options)
    expired = _policy_waiver_findings(policy, rules, options) if policy_waivers else []
    everything = rule_findings + [f for _, f in stamped] + [f for _, f in inline] + expired
    waived = iter(_apply_waivers(everything, resources, directives, policy, rules, options, root))
    judgement.findings = [next(waived) for _ in rule_findings]
    judgement.raised = [(i, next(waived)) for i, _ in stamped]
    judgement.waivers = [(key, next(waived)) for key, _ in inline]
    judgement.expired = list(waived)
    return judgement


def evaluate(
    facts: list[DataStoreFacts], policy: Policy, rules: dict[str, Any], options: ScanOptions, root: Path,
    trace: Judgement | None = None,
) -> tuple[list[Finding], list[Note]]:
    """Run every enabled rule over every fact, stamping what rules yield into findings.

    ``trace`` (from :func:`judge`) records which rules judged a fact and which exemptions stopped one."""
    from checks.rules import NoOptions, RuleContext  # lazy: start-up (checks/: judged units only)

    # Addresses are unique only within one unit (a Terraform root, a plan, a manifest file): two roots
    # may both declare aws_s3_bucket.logs, so rules look up other data stores within their own unit.
    by_unit: dict[str, dict[str, DataStoreFacts]] = {}
    roles_by_unit: dict[str, dict[str, list[DataStoreFacts]]] = {}
    for f in facts:
        unit_key = _unit(f.resource)
        if f.role not in ("flow", "grant"):  # a pipe's or a grant's facts never shadow the store of that address
            by_unit.setdefault(unit_key, {})[f.resource.address] = f
        else:
            by_unit.setdefault(unit_key, {})
        roles_by_unit.setdefault(unit_key, {}).setdefault(f.role, []).append(f)
    unit_roles = {u: {role: tuple(fs) for role, fs in by_role.items()} for u, by_role in roles_by_unit.items()}
    findings: list[Finding] = []
    notes: list[Note] = []
    contexts: dict[tuple[str, str], RuleContext] = {}
    allowed_sets: dict[str, Any] = {}
    active = [r for r in rules.values() if r.roles and enabled(policy, r.id)]
    # A rule's options (defaults + the policy's rules.<id>.options), built once per scan; a rule
    # without configured options gets its defaults (NoOptions for most).
    options_for = {r.id: r.make_options(policy.rule_setting(r.id).options) for r in active
                   if r.options is not NoOptions}
    for fact in facts:
        exemption = exemption_for(policy, fact)
        if exemption:
            notes.append(Note(fact.resource.file, f"{fact.resource.address} exempted by policy ({exemption})",
                              fact.resource.address))
            if trace is not None:
                for rule in active:
                    if fact.role in rule.roles:
                        trace.exempt.setdefault(rule.id, []).append(exemption)
            continue
        notes.extend(Note(fact.resource.file, n, fact.resource.address) for n in fact.notes)
        scope = scope_path(fact.resource)
        unit = _unit(fact.resource)
        ctx = contexts.get((scope, unit))
        if ctx is None:
            allowed = allowed_sets.get(scope)
            scope_rel = policy_rel(policy, root, scope)
            if allowed is None:
                allowed = allowed_sets[scope] = policy.allowed_for(scope_rel)
            ctx = contexts[(scope, unit)] = RuleContext(policy=policy, allowed=allowed, catalog=policy.catalog,
                                                        facts=by_unit[unit], by_role=unit_roles[unit],
                                                        policy_path=scope_rel)
        for rule in active:
            if fact.role not in rule.roles:
                continue
            rule_ctx = dataclasses.replace(ctx, options=options_for[rule.id]) if rule.id in options_for else ctx
            if trace is not None:
                trace.judged.add(rule.id)
            for violation in rule.check(fact, rule_ctx):
                findings.append(stamp(rule, violation, fact.resource, policy, options))
    return findings, notes


def describe(rules: dict[str, Any], findings: Iterable[Finding]) -> dict[str, RuleInfo]:
    """Descriptors of the rules behind ``findings``, attached to the Report so reporters need no registry."""
    out: dict[str, RuleInfo] = {}
    for rule_id in sorted({f.rule_id for f in findings}):
        rule = rules.get(rule_id)
        if rule is not None:
            out[rule_id] = RuleInfo(rule.id, rule.name, rule.category, rule.summary, rule.doc, tuple(rule.controls))
    return out


def _policy_notes(policy: Policy, root: Path) -> list[Note]:
    """What the policy loader noticed (sections whose rule is not built yet), as report notes."""
    if not policy.notes or policy.path is None:
        return []
    where = rel(Path(os.path.abspath(policy.path)), root)
    return [Note(where, f"line {line}: {message}") for line, message in policy.notes]


def unit_key(resource: Resource) -> str:
    """The unit a resource belongs to (a Terraform root, a plan, a manifest file): addresses are unique in it."""
    return _unit(resource)


def _unit(resource: Resource) -> str:
    return f"{resource.source}:{resource.root_dir if resource.root_dir is not None else resource.file}"


def enabled(policy: Policy, rule_id: str) -> bool:
    """A rule runs unless the policy's ``rules.<id>.enabled`` switches it off."""
    setting = policy.rules.get(rule_id)
    return setting is None or setting.enabled


def exemption_for(policy: Policy, fact: DataStoreFacts) -> str | None:
    if not fact.tags:
        return None
    labels_cloud = fact.cloud in ("gcp", "kubernetes") or fact.resource.source == "kubernetes"
    return policy.exemption(tags={} if labels_cloud else fact.tags, labels=fact.tags if labels_cloud else {})


def stamp(rule: Any, v: Violation, resource: Resource, policy: Policy, options: ScanOptions) -> Finding:
    """Turn a rule's violation into a finding: rule identity, severity, location and blocking."""
    setting = policy.rules.get(rule.id)
    # the policy's rules: <id>: severity wins over a rule's own grading of one finding (v.severity)
    given = setting.severity if setting is not None else None
    severity = given or v.severity or rule.severity
    category = v.category
    blocking = severity.rank >= options.fail_on.rank
    if category is Category.UNRESOLVED:
        # movement.unresolved / access.unresolved, when written, win over the top-level unresolved
        section = {Category.MOVEMENT: policy.movement, Category.ACCESS: policy.access}.get(rule.category)
        mode = section.unresolved if section is not None and section.unresolved_given else policy.unresolved
        if mode == "warn":
            blocking = False
    subject = v.subject or resource  # RES006: the store a grant opens, when the store is in the scan
    file, line = v.file or resource.file, v.line or resource.line
    related: tuple[tuple[str, int], ...] = ()
    source_file = resource.extra.get("source_file")
    if source_file and v.file is None and v.line is None:
        # A plan resource whose .tf block is known: code scanning annotates the line people edit;
        # the plan entry (a CI artifact) stays as the related location.
        related = ((file, line),)
        file, line = source_file, int(resource.extra.get("source_line") or 1)
    return Finding(
        rule_id=rule.id, rule_name=rule.name, category=category, severity=severity,
        resource=subject.address,
        resource_type=subject.declared_type,
        file=file, line=line, message=v.message, related=related,
        remediation=v.remediation, region=v.region, jurisdiction=v.jurisdiction, country=v.country,
        provenance=v.provenance, blocking=blocking, controls=tuple(rule.controls),
        origin=(resource.file, resource.address),
    )


def _registry_modules(problems: list[Problem], policy: Policy) -> tuple[list[Problem], list[Note]]:
    """Module calls not on disk whose source the policy's ``terraform.no_data_modules`` names become notes.

    The policy says the module holds no data store, so its absence is shown (a note naming the call, the entry
    and the fix), not a finding. Nothing else changes: a store reading an unknown output of it stays unresolved.
    """
    if not policy.no_data_modules:
        return problems, []
    kept: list[Problem] = []
    notes: list[Note] = []
    for p in problems:
        entry = policy.data_free_module(p.module_source) if p.module_source else None
        if entry is None:
            kept.append(p)
            continue
        notes.append(Note(p.file, f"line {p.line}: module {p.resource} (source {p.module_source}) is not on disk "
                          f"and not checked: the policy's terraform.no_data_modules entry {entry!r} says it holds "
                          "no data store (run `terraform init -backend=false` to check it anyway)", p.resource))
    return kept, notes


def problem_violations(problems: Iterable[Problem], rules: dict[str, Any]) -> list[Raised]:
    """Files that could not be read or inputs that could not be resolved, as RES900 / RES901 violations."""
    out: list[Raised] = []
    for p in problems:
        rule = rules["RES900"] if p.category is Category.PARSE else rules["RES901"]
        fake = Resource(type=p.resource_type or "file", address=p.resource or p.file, file=p.file, line=p.line,
                        attributes={})
        out.append((rule, Violation(p.category, p.message, p.remediation), fake))
    return out


# --- waivers ----------------------------------------------------------------------------------


class _Directives:
    """Inline waiver directives, read once per block: every instance of a count/for_each block shares
    the block's comments, so a 10,000-instance block costs one read, not 10,000."""

    def __init__(self, resources: list[Resource]) -> None:
        self._specs: dict[tuple[str, int, int, int], list[Any]] = {}
        self.blocks: dict[str, list[tuple[int, int, Resource]]] = {}
        seen: set[tuple[str, int, int, int]] = set()
        for r in resources:
            key = self._key(r)
            if key not in seen:
                seen.add(key)
                self.blocks.setdefault(r.file, []).append((r.line, r.end_line or r.line, r))

    @staticmethod
    def _key(r: Resource) -> tuple[str, int, int, int]:
        return (r.file, r.line, id(r.extra.get("comments")), id(r.extra.get("annotations")))

    def specs(self, resource: Resource) -> list[Any]:
        key = self._key(resource)
        found = self._specs.get(key)
        if found is None:
            found = self._specs[key] = _waiver_specs(resource)
        return found

    def at(self, file: str, line: int) -> list[Resource]:
        """Blocks of ``file`` whose lines contain ``line`` (where a finding points)."""
        return [r for start, end, r in self.blocks.get(file, ()) if start <= line <= end]


def _waiver_specs(resource: Resource) -> list[Any]:
    # A plan resource's inline waivers stand in its Terraform source: cite that file, not the plan.
    specs = waivers.from_comments(resource.extra.get("comments", ()), resource.extra.get("source_file", resource.file))
    annotations = resource.extra.get("annotations") or {}
    if annotations:
        specs.extend(waivers.from_annotations(annotations, resource.file, resource.line))
    return specs


def _inline_waiver_findings(directives: _Directives, policy: Policy, rules: dict[str, Any],
                     options: ScanOptions) -> list[tuple[tuple[str, int, str], Finding]]:
    """A malformed, unknown or expired inline waiver is itself a finding and waives nothing.

    Each comes with its key (file, line, rule): a shared module's waiver is met by every root using it."""
    findings: list[tuple[tuple[str, int, str], Finding]] = []
    seen: set[tuple[str, int, str]] = set()
    blocks = [r for per_file in directives.blocks.values() for _start, _end, r in per_file]
    for resource, spec in ((r, spec) for r in blocks for spec in directives.specs(r)):
        problem = waivers.validate(spec, rules.keys(), options.today)
        key = (spec.file, spec.line, spec.rule)
        if problem is None or key in seen:
            continue
        seen.add(key)
        violation = Violation(Category.WAIVER, f"waiver for {spec.rule} ignored: {problem}",
                              'Write: residency:ignore RULE-ID reason="why" expires=YYYY-MM-DD', line=spec.line)
        finding = stamp(rules["RES902"], violation, resource, policy, options)
        findings.append((key, dataclasses.replace(finding, file=spec.file)))
    return findings


def _policy_waiver_findings(policy: Policy, rules: dict[str, Any], options: ScanOptions) -> list[Finding]:
    """An expired policy waiver is a finding (once per scan)."""
    findings: list[Finding] = []
    for pw in policy.waivers:
        if pw.expires is not None and pw.expires < options.today:
            where = policy.path.name if policy.path else "policy"
            fake = Resource(type="policy", address=f"waiver {pw.rule} {pw.resource}", file=where, line=pw.line,
                            attributes={})
            violation = Violation(Category.WAIVER, f"policy waiver for {pw.rule} on {pw.resource} expired on "
                                  f"{pw.expires.isoformat()}",
                                  "Renew the waiver with a new expiry or fix the resource.")
            findings.append(stamp(rules["RES902"], violation, fake, policy, options))
    return findings


def _apply_waivers(findings: list[Finding], resources: list[Resource], directives: _Directives, policy: Policy,
                   rules: dict[str, Any], options: ScanOptions, root: Path) -> list[Finding]:
    """A finding is waived by a valid directive on the resource it is about, or on the block it points at
    (a copy declared in a replication configuration elsewhere), or by a policy waiver.

    A policy waiver's ``paths:`` are relative to the policy file's directory, like ``exclude:`` and
    ``scopes:``, so findings' root-relative files are made policy-relative before matching."""
    by_address: dict[tuple[str, str], Resource] = {(r.file, r.address): r for r in resources}
    out = []
    for finding in findings:
        if finding.category is Category.WAIVER:
            out.append(finding)
            continue
        waiver = None
        owner = by_address.get(finding.origin or (finding.file, finding.resource))
        candidates = ([owner] if owner is not None else []) + directives.at(finding.file, finding.line)
        for resource in candidates:
            valid = [spec for spec in directives.specs(resource)
                     if spec.rule == finding.rule_id and waivers.validate(spec, rules.keys(), options.today) is None]
            if valid:
                waiver = waivers.to_waiver(valid[0])
                break
        if waiver is None:
            pw = waivers.match_policy_waiver(policy.waivers, finding.rule_id, finding.resource,
                                             policy_rel(policy, root, finding.file), today=options.today)
            if pw is not None:
                where = policy.path.name if policy.path else "policy"
                waiver = Waiver(reason=pw.reason, expires=pw.expires.isoformat() if pw.expires else None,
                                approver=pw.approver, source=f"policy {where}:{pw.line}")
        if waiver is not None:
            finding = dataclasses.replace(finding, waiver=waiver, blocking=False)
        out.append(finding)
    return out
