"""The ``residency`` command: a thin click layer over the engine.

It parses options, finds the policy, calls the engine, renders formats and picks the exit code:
0 nothing blocking, 1 blocking findings, 2 usage or configuration error, 3 internal error (a bug).
Heavy modules (parsers, loaders, report formats) are imported inside commands so that
``residency --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scanner import __version__
from scanner.errors import ResidencyError

if TYPE_CHECKING:  # annotations only: --version and --help must not import the engine
    from scanner.engine import ScanOptions
    from scanner.model import Report
    from scanner.policy import Policy

SEVERITIES = ("critical", "high", "medium", "low", "info")
FORMAT_NAMES = ("text", "json", "sarif", "junit", "junit-rich", "github", "markdown", "gitlab")


def _parse_formats(values: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    """``--format text --format json=scan.json`` -> [(text, None), (json, scan.json)]."""
    specs: list[tuple[str, str | None]] = []
    for value in values or ("text",):
        name, _, path = value.partition("=")
        name = name.strip().lower()
        if name not in FORMAT_NAMES:
            raise ResidencyError(f"unknown format {name!r}; choose from {', '.join(FORMAT_NAMES)}")
        specs.append((name, path or None))
    stdout_specs = [s for s in specs if s[1] is None]
    if output:
        if len(stdout_specs) != 1:
            raise ResidencyError("--output takes exactly one format without =PATH")
        specs = [(n, output if p is None else p) for n, p in specs]
    elif len(stdout_specs) > 1:
        raise ResidencyError("only one format can go to standard output; give the others a path: --format json=FILE")
    return specs


def _load_policy(policy_path: str | None, allowed: tuple[str, ...], start: Path):
    from checks.rules import RULES  # lazy: start-up (per command)
    from scanner.policy import find_policy, load_policy, policy_from_regions  # lazy: start-up (per command)

    if allowed:
        entries = [e.strip() for value in allowed for e in value.split(",") if e.strip()]
        if policy_path:
            raise ResidencyError("give either --policy or --allowed-regions, not both")
        return policy_from_regions(entries, Path.cwd())
    path = Path(policy_path) if policy_path else find_policy(start)
    if path is None:
        raise ResidencyError(
            "no policy found: create one with `residency init` (writes residency.yaml), pass --policy FILE, "
            "or scan quickly with --allowed-regions in:eu-locations"
        )
    if not path.is_file():
        raise ResidencyError(f"policy file {path} does not exist")
    return load_policy(path, known_rules=RULES)


def _size(value: str) -> int:
    from scanner.limits import parse_size  # lazy: start-up (per command)

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_SCAN_INPUT_OPTIONS = (
    click.option("--policy", "policy_path", metavar="FILE", help="Policy file (default: residency.yaml or "
                 ".residency.yaml in the current directory, then the git root)."),
    click.option("--allowed-regions", multiple=True, metavar="LIST",
                 help="Quick scan without a policy file, e.g. in:eu-locations,aws:eu-west-1."),
    click.option("--var-file", "var_files", multiple=True, metavar="FILE",
                 help="Terraform -var-file for root modules, in order."),
    click.option("--var", "variables", multiple=True, metavar="K=V", help="Terraform -var, last wins."),
    click.option("--env-vars", is_flag=True, help="Read TF_VAR_* from the environment (off: CI differs from laptops)."),
    click.option("--plan", "plans", multiple=True, metavar="FILE", help="A `terraform show -json` plan file."),
    click.option("--source", "source_dir", metavar="DIR", help="Terraform source of a plan (for lines and waivers)."),
    click.option("--cluster-region", metavar="REGION",
                 help="Cluster region of manifests on stdin and of files kubernetes.clusters does not map."),
    click.option("--jobs", "-j", type=int, metavar="N", help="Parse processes (default: usable CPUs)."),
    click.option("--no-cache", is_flag=True, help="Do not read or write the parse cache."),
    click.option("--max-file-size", metavar="SIZE", callback=lambda c, p, v: _size(v), default="5MB",
                 show_default=True,
                 help="Largest YAML file parsed (e.g. 5MB, 800KB); larger ones are parse findings."),
    click.option("--max-terraform-size", metavar="SIZE", callback=lambda c, p, v: _size(v), default="256KB",
                 show_default=True, help="Largest Terraform file (.tf, .tf.json, .tfvars) parsed; larger ones are "
                 "parse findings (HCL parsing costs about 40 ms and 1 MB per KB: see docs/security.md)."),
    click.option("--max-plan-size", metavar="SIZE", callback=lambda c, p, v: _size(v), default="512MB",
                 show_default=True, help="Largest plan JSON file parsed; larger ones are parse findings."),
)


def scan_inputs(f: Any) -> Any:
    """Every option that shapes what a scan sees (policy, variables, plans, limits), for every command
    that scans: ``scan``, ``baseline`` and ``inventory`` see the same configuration from the same flags."""
    for option in reversed(_SCAN_INPUT_OPTIONS):
        f = option(f)
    return f


def _scan_inputs(paths: tuple[str, ...], plans: tuple[str, ...], variables: tuple[str, ...],
                 ) -> tuple[list[str], bytes | None, dict[str, str]]:
    """Paths (``-`` read from standard input), and ``--var`` pairs, as every scanning command reads them."""
    stdin = None
    path_list = [p for p in paths if p != "-"]
    if "-" in paths:
        stdin = sys.stdin.buffer.read()
    if not path_list and stdin is None and not plans:
        path_list = ["."]
    parsed_vars: dict[str, str] = {}
    for item in variables:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ResidencyError(f"--var takes KEY=VALUE, got {item!r}")
        parsed_vars[key.strip()] = value
    return path_list, stdin, parsed_vars


def _scan_options(path_list: list[str], stdin: bytes | None, parsed_vars: dict[str, str], *,
                  var_files: tuple[str, ...], env_vars: bool, plans: tuple[str, ...], source_dir: str | None,
                  cluster_region: str | None, jobs: int | None, no_cache: bool, max_file_size: int,
                  max_plan_size: int, max_terraform_size: int, **extra: Any) -> ScanOptions:
    """The ScanOptions of the shared input flags; ``extra`` are a command's own fields (fail_on, baseline)."""
    import os

    from scanner.engine import ScanOptions  # lazy: start-up (per command)
    from scanner.limits import Limits  # lazy: start-up (per command)

    return ScanOptions(
        paths=[Path(p) for p in path_list],
        stdin=stdin,
        var_files=[Path(v) for v in var_files],
        variables=parsed_vars,
        env=dict(os.environ) if env_vars else None,
        plan_files=[Path(p) for p in plans],
        source_dir=Path(source_dir) if source_dir else None,
        cluster_region=cluster_region,
        jobs=jobs,
        use_cache=not no_cache,
        limits=Limits(max_source_bytes=max_file_size, max_plan_bytes=max_plan_size,
                      max_terraform_bytes=max_terraform_size),
        **extra,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="residency")
@click.option("--debug", is_flag=True, help="Print tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep user data where it is allowed to live: scan Terraform, plans and Kubernetes manifests
    for data stores placed or replicated outside the approved regions, or left unencrypted."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@scan_inputs
@click.option("--format", "formats", multiple=True, metavar="FMT[=PATH]",
              help=f"Output format ({', '.join(FORMAT_NAMES)}); repeat with =PATH to write several.")
@click.option("-o", "--output", metavar="FILE", help="Write the (single) format to FILE instead of stdout.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Lowest severity that blocks (exit 1).")
@click.option("--soft-fail", is_flag=True, help="Report everything but exit 0 (for rollout).")
@click.option("--baseline", metavar="FILE", help="Fail only on findings not in this baseline.")
@click.option("--sarif-category", default="residency-guardrail", show_default=True, metavar="NAME",
              help="Names this scan in SARIF run.automationDetails (code scanning keeps one analysis per category).")
@click.option("--changed-since", metavar="REF", help="Scan only the roots and manifests that files changed since "
              "the merge base with REF select (git, read without running git).")
@click.option("--changed-files", metavar="FILE", help="Like --changed-since, with the changed paths listed in FILE "
              "(one a line, relative to the current directory).")
@click.option("--shard", metavar="I/N", help="Scan only shard I of N (a stable partition of roots and manifests, "
              "balanced by file count); join the JSON reports with `residency merge`.")
@click.pass_context
def scan(ctx: click.Context, paths: tuple[str, ...], policy_path: str | None, allowed_regions: tuple[str, ...],
         formats: tuple[str, ...], output: str | None, fail_on: str, soft_fail: bool, var_files: tuple[str, ...],
         variables: tuple[str, ...], env_vars: bool, plans: tuple[str, ...], source_dir: str | None,
         cluster_region: str | None, baseline: str | None, jobs: int | None, no_cache: bool,
         max_file_size: int, max_plan_size: int, max_terraform_size: int, sarif_category: str,
         changed_since: str | None,
         changed_files: str | None, shard: str | None) -> None:
    """Scan PATHS (default: the current directory; - reads manifests or a plan from stdin)."""

    from scanner.engine import scan as run_scan  # lazy: start-up (per command)
    from scanner.model import Severity  # lazy: start-up (per command)
    from scanner.shard import parse_shard  # lazy: start-up (per command)

    specs = _parse_formats(formats, output)
    path_list, stdin, parsed_vars = _scan_inputs(paths, plans, variables)
    policy = _load_policy(policy_path, allowed_regions, Path(path_list[0]) if path_list else Path.cwd())
    selection = None
    if changed_since or changed_files:
        selection = _select_changed(changed_since, changed_files, path_list, policy, var_files)
        path_list = [str(p) for p in selection.paths]
    options = _scan_options(
        path_list, stdin, parsed_vars, var_files=var_files, env_vars=env_vars, plans=plans, source_dir=source_dir,
        cluster_region=cluster_region, jobs=jobs, no_cache=no_cache, max_file_size=max_file_size,
        max_plan_size=max_plan_size, max_terraform_size=max_terraform_size,
        fail_on=Severity(fail_on),
        baseline=Path(baseline) if baseline else None,
        shard=parse_shard(shard) if shard else None,
    )
    if selection is not None and not path_list and not plans and stdin is None:
        from scanner import __version__  # lazy: start-up (per command)
        from scanner.report import Report  # lazy: start-up (per command)

        report = Report(findings=[], tool_version=__version__)  # nothing changed that a scanned path uses
    else:
        report = run_scan(options, policy)
    if selection is not None:
        report.notes[:0] = _selection_notes(selection, changed_since)
    report.category = sarif_category
    _emit(ctx, report, specs, soft_fail)


def _emit(ctx: click.Context, report: Report, specs: list, soft_fail: bool) -> None:
    """Write ``report`` in every requested format and exit with its verdict.

    One place for scan and merge, so a merged report is written and judged exactly as a single scan's.
    """
    import os

    from scanner.output import write_atomic  # lazy: start-up (per command)
    from scanner.report import render  # lazy: start-up (per command)

    for name, dest in specs:
        if dest is None:
            color = name == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            _echo(render(name, report, color=color))
        else:
            write_atomic(dest, render(name, report), f"{name} report")
    ctx.exit(1 if report.blocking and not soft_fail else 0)


def _describe(findings: list) -> dict:
    """The registry's descriptors of the rules behind ``findings`` (a merged report has no engine run)."""
    from checks.rules import RULES  # lazy: start-up (per command)
    from scanner.engine import describe  # lazy: start-up (per command)

    return describe(RULES, findings)


def _select_changed(changed_since: str | None, changed_files: str | None, path_list: list[str], policy: Policy,
                   var_files: tuple[str, ...]):
    """The paths ``--changed-since``/``--changed-files`` select among the scanned ones (scanner.changes)."""
    from scanner.changes import changed_since as git_changed  # lazy: start-up (per command)
    from scanner.changes import read_changed_list, select  # lazy: start-up (per command)
    from scanner.discover import find_scan_root  # lazy: start-up (per command)

    if changed_since and changed_files:
        raise ResidencyError("give either --changed-since or --changed-files, not both")
    cwd = Path.cwd()
    scan_paths = [Path(p) for p in path_list]
    root = find_scan_root(scan_paths or [cwd], cwd)
    if changed_since:
        changed = [root / p for p in git_changed(root, changed_since)]
    else:
        changed = read_changed_list(Path(changed_files or ""), cwd)
    return select(changed, scan_paths, root, policy.path, [Path(v) for v in var_files])


def _selection_notes(selection, changed_since: str | None) -> list:
    """What was scanned and why: the first notes of every report."""
    from scanner.model import Note  # lazy: start-up (per command)

    since = f"since {changed_since}" if changed_since else "in --changed-files"
    if selection.everything:
        return [Note(".", f"changed {since}: scanning everything: {selection.everything}")]
    if not selection.reasons:
        return [Note(".", f"changed {since}: no changed file affects a scanned root or manifest; nothing scanned")]
    return [Note(path, f"scanned: {', '.join(files)} changed {since} (a module directory is evaluated through "
                 "every root that calls it)" if path not in files else f"scanned: changed {since}")
            for path, files in selection.reasons.items()]


@cli.command("merge")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "formats", multiple=True, metavar="FMT[=PATH]",
              help=f"Output format ({', '.join(FORMAT_NAMES)}); repeat with =PATH to write several.")
@click.option("-o", "--output", metavar="FILE", help="Write the (single) format to FILE instead of stdout.")
@click.option("--baseline", metavar="FILE", help="Fail only on findings not in this baseline (applied to the union).")
@click.option("--soft-fail", is_flag=True, help="Report everything but exit 0.")
@click.option("--sarif-category", default="residency-guardrail", show_default=True, metavar="NAME")
@click.pass_context
def merge_cmd(ctx: click.Context, reports: tuple[str, ...], formats: tuple[str, ...], output: str | None,
              baseline: str | None, soft_fail: bool, sarif_category: str) -> None:
    """Join the JSON reports of `scan --shard I/N` jobs into one result (every shard must be there)."""
    import json

    from scanner.model import Note  # lazy: start-up (per command)
    from scanner.report import Report  # lazy: start-up (per command)
    from scanner.shard import findings_from_json, merge_documents  # lazy: start-up (per command)

    specs = _parse_formats(formats, output)
    docs = []
    for path in reports:
        try:
            docs.append((path, json.loads(Path(path).read_text(encoding="utf-8"))))
        except OSError as exc:
            raise ResidencyError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ResidencyError(f"{path} is not JSON: {exc}") from None
    merged = merge_documents(docs)
    findings = findings_from_json(merged["findings"])
    fixed = merged["baseline_fixed"]
    if baseline:
        from scanner.baseline import load_baseline  # lazy: start-up (per command)

        findings, fixed = load_baseline(Path(baseline)).apply(findings)
    notes = [Note(n["file"], n["message"], n.get("resource")) for n in merged["notes"]]
    report = Report(findings=findings, notes=notes,
                    files=merged["summary"]["files"], resources=merged["summary"]["resources"], fixed=fixed,
                    unknown_types=merged["summary"].get("unknown_types", 0),
                    data_store_count=merged["summary"].get("data_stores", 0),
                    tool_version=merged["tool"]["version"], policy_digest=merged.get("policy_digest", ""),
                    category=sarif_category, rules=_describe(findings))
    _emit(ctx, report, specs, soft_fail)


def _echo(text: str) -> None:
    """Standard output that cannot be written (a full disk behind `>`) is a one-line error, exit 2."""
    try:
        click.echo(text, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise ResidencyError(f"cannot write standard output: {exc.strerror or exc}") from None


@cli.command()
@click.option("--cloud", type=click.Choice(["aws", "gcp", "azure"]), help="Only this cloud.")
@click.option("--group", metavar="GROUP", help="Only members of a group, e.g. in:eu-locations or country:DE.")
@click.option("--groups", "list_groups", is_flag=True, help="List the groups and what they mean.")
def regions(cloud: str | None, group: str | None, list_groups: bool) -> None:
    """Print the region catalog, so a policy's groups can be checked by eye."""
    from scanner.regions import catalog  # lazy: start-up (per command)

    cat = catalog()
    if list_groups:
        for name, description in sorted(cat.groups().items()):
            click.echo(f"{name:<28} {description}")
        return
    if group:
        if not cat.is_group(group):
            raise ResidencyError(f"unknown group {group!r}; `residency regions --groups` lists them")
        rows = list(cat.group_members(group))
    else:
        rows = list(cat.all_regions())
    rows = [r for r in rows if cloud is None or r.cloud == cloud]
    header = ("CLOUD", "CODE", "NAME", "COUNTRY", "GROUPS")
    table = [header] + [
        (r.cloud, r.code, r.name, r.country, ", ".join(sorted(g for g in r.groups if g.startswith("in:")
                                                              and not g.endswith(f"{r.code}-locations"))))
        for r in sorted(rows, key=lambda r: (r.cloud, r.code))
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])


@cli.command()
@click.option("--path", "target", default="residency.yaml", show_default=True, metavar="FILE")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(target: str, force: bool) -> None:
    """Write a commented starter policy."""
    from scanner.policy import STARTER_POLICY  # lazy: start-up (per command)

    path = Path(target)
    if path.exists() and not force:
        raise ResidencyError(f"{path} exists; use --force to overwrite")
    from scanner.output import write_atomic  # lazy: start-up (per command)

    write_atomic(path, STARTER_POLICY, "policy")
    click.echo(f"wrote {path}: edit allowed_regions, then run `residency scan`")


@cli.group("cache")
def cache_group() -> None:
    """The parse cache: where it is, how big, and clearing it (cap: $RESIDENCY_CACHE_MAX_SIZE, default 256MB)."""


@cache_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def cache_info_cmd(as_json: bool) -> None:
    """Directory, entries, size and cap of the parse cache (exit 0; an absent cache is empty)."""
    import json

    from scanner.cache import cache_info, default_cache_dir  # lazy: start-up (per command)
    from scanner.limits import human_size  # lazy: start-up (per command)

    info = cache_info(default_cache_dir())
    if as_json:
        _echo(json.dumps(info.as_dict(), sort_keys=True) + "\n")
        return
    _echo(f"directory: {info.directory}\nentries:   {info.entries}\n"
          f"size:      {human_size(info.bytes)} of {human_size(info.max_bytes)} "
          "(least recently used entries are evicted past it)\n")


@cache_group.command("clear")
def cache_clear_cmd() -> None:
    """Remove every cache entry and the cache's secret (exit 0; exit 2 when an entry cannot be removed)."""
    from scanner.cache import cache_info, clear, default_cache_dir  # lazy: start-up (per command)
    from scanner.limits import human_size  # lazy: start-up (per command)

    directory = default_cache_dir()
    removed, freed = clear(directory)
    left = cache_info(directory, max_bytes=0).entries
    if left:
        raise ResidencyError(f"cache {directory}: {left} entries could not be removed (permissions?)")
    _echo(f"cleared {directory}: {removed} entries, {human_size(freed) if freed else '0 bytes'}\n")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True)
def rules(fmt: str) -> None:
    """List the rules: id, name, category, severity, controls."""
    from scanner.rules_doc import render_rules  # lazy: start-up (per command)

    click.echo(render_rules(fmt), nl=False)


@cli.command()
def coverage() -> None:
    """List the resource types checked per provider version (the page docs/coverage.md)."""
    from checks.coverage_doc import render_coverage  # lazy: start-up (checks loads only when used)

    click.echo(render_coverage(), nl=False)


@cli.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """What a rule checks, why it matters, a failing and a fixed example, the controls."""
    from scanner.rules_doc import explain_rule  # lazy: start-up (per command)

    click.echo(explain_rule(rule_id), nl=False)


def _scan_for(paths: tuple[str, ...], policy_path: str | None, allowed_regions: tuple[str, ...],
              **inputs: Any) -> tuple[Report, Policy]:
    """The scan ``baseline`` and ``inventory`` use: the same input flags as ``scan``, default gating."""
    from scanner.engine import scan as run_scan  # lazy: start-up (per command)

    path_list, stdin, parsed_vars = _scan_inputs(paths, inputs["plans"], inputs.pop("variables"))
    policy = _load_policy(policy_path, allowed_regions, Path(path_list[0]) if path_list else Path.cwd())
    return run_scan(_scan_options(path_list, stdin, parsed_vars, **inputs), policy), policy


@cli.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@scan_inputs
@click.option("-o", "--output", default=".residency-baseline.json", show_default=True, metavar="FILE")
def baseline_cmd(paths: tuple[str, ...], policy_path: str | None, allowed_regions: tuple[str, ...],
                 output: str, **inputs: Any) -> None:
    """Record today's findings so that `scan --baseline` fails only on new ones."""
    from scanner.baseline import write_baseline  # lazy: start-up (per command)

    report, _policy = _scan_for(paths, policy_path, allowed_regions, **inputs)
    kept = [f for f in report.findings if not f.waived]
    write_baseline(kept, Path(output))
    click.echo(f"recorded {len(kept)} finding(s) in {output}")


@cli.command("inventory")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@scan_inputs
@click.option("--format", "fmt", type=click.Choice(["json", "markdown", "mermaid", "dot", "csv"]), default="markdown",
              show_default=True, help="json (docs/inventory.schema.json), markdown with a Mermaid map, mermaid, "
              "dot (Graphviz), csv.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
def inventory_cmd(paths: tuple[str, ...], policy_path: str | None, allowed_regions: tuple[str, ...], fmt: str,
                  output: str | None, **inputs: Any) -> None:
    """List every data store, where it and its copies live, and what the policy allows.

    A map, not a gate: exit 0 whatever it shows (use `scan` to block). Regenerate the committed map with
    `residency inventory fixtures --policy fixtures/residency.yaml --format dot | dot -Tsvg > docs/residency-map.svg`.
    """
    from scanner.escape import log_safe  # lazy: start-up (per command)
    from scanner.inventory import build_inventory  # lazy: start-up (per command)
    from scanner.report.inventory_formats import render_inventory  # lazy: start-up (per command)

    report, policy = _scan_for(paths, policy_path, allowed_regions, keep_facts=True, **inputs)

    # The inventory is printed in CI logs too: neutralise forged workflow commands as scan formats do.
    text = log_safe(render_inventory(fmt, build_inventory(report, policy)), fmt)
    if output:
        from scanner.output import write_atomic  # lazy: start-up (per command)

        write_atomic(output, text, "inventory")
    else:
        _echo(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to the documented exit codes, never a bare traceback."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="residency", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return 2
    except ResidencyError as exc:
        click.echo(f"residency: error: {exc}", err=True)
        return 2
    except BrokenPipeError:
        return 1
    except Exception as exc:  # any exit 3 is a bug: say so in one line, trace only on request
        if debug:
            traceback.print_exc()
        click.echo(f"residency: internal error ({type(exc).__name__}: {exc}); this is a bug, "
                   "rerun with --debug and report it", err=True)
        return 3




@cli.command("checkov-checks")
@click.option("--policy", "policy_path", metavar="FILE", help="Policy file (found as for scan when omitted).")
@click.option("--allowed-regions", multiple=True, metavar="LIST", help="Judge against these instead of a policy file.")
@click.option("-o", "--output", required=True, metavar="DIR", help="Directory to write (created; only ours inside).")
def checkov_checks_cmd(policy_path: str | None, allowed_regions: tuple[str, ...], output: str) -> None:
    """Write a checkov --external-checks-dir running the residency rules with this policy (docs/checkov.md)."""
    from scanner.checkov_export import export  # lazy: start-up (per command)

    policy = _load_policy(policy_path, allowed_regions, Path.cwd())
    written = export(policy, Path(output))
    click.echo(f"wrote {len(written)} files to {output}: from this directory, run "
               f"checkov -d . --external-checks-dir {output} "
               "(checks CKV_RES_1..CKV_RES_5; keep checkov in its own environment)")


if __name__ == "__main__":  # last, so every command above is registered when run as a module
    sys.exit(main())
