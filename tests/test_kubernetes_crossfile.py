"""Kubernetes across files (issue 16): reused names and kustomize overlays, on real-shaped fixtures.

fixtures/kubernetes/crossfile holds the provider-upjet-aws S3 encryption example twice (v1beta1, v1beta2),
as the examples directory does: every copy names its key and bucket alike, so before this a whole scan
turned the same-file references into "matches N objects" unresolved findings that a one-file scan does not
give. fixtures/kubernetes/kustomize holds a base and three overlays (US, EU, remote base).
"""

from __future__ import annotations

from pathlib import Path

from scanner.engine import ScanOptions, scan
from scanner.loaders.kubernetes import is_cluster_scoped, load_kubernetes
from scanner.loaders.kustomize import GENERATOR_NOTE, PATCH_NOTE, render_kustomizations
from scanner.loaders.manifest_groups import manifest_units
from scanner.model import Category, Ref, Unknown
from scanner.policy import load_policy

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes"
CROSS = FIXTURES / "crossfile"
KUST = FIXTURES / "kustomize"


def _files(root: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*.yaml"))
            if p.name != "residency.yaml"]


def _refs(value: object) -> list[object]:
    if isinstance(value, (Ref, Unknown)):
        return [value]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_reused_names_and_labels_resolve_in_their_own_file() -> None:
    loaded = load_kubernetes(_files(CROSS))
    configs = [r for r in loaded.resources if r.type == "aws_s3_bucket_server_side_encryption_configuration"]
    assert len(configs) == 8
    for config in configs:
        refs = _refs(config.attributes)
        assert all(isinstance(r, Ref) for r in refs), (config.file, refs)
        same_file = {r.address for r in loaded.resources if r.file == config.file}
        assert {r.address for r in refs if isinstance(r, Ref)} <= same_file, config.file


def test_a_whole_scan_gives_the_verdicts_of_each_file_alone() -> None:
    policy = load_policy(CROSS / "residency.yaml")

    def verdicts(path: Path) -> set[tuple[str, str, str, str]]:
        report = scan(ScanOptions(paths=[path], cwd=CROSS, use_cache=False), policy)
        return {(Path(f.file).relative_to("fixtures/kubernetes/crossfile" if f.file.startswith("fixtures") else ".")
                 .as_posix(), f.rule_id, f.category.value, f.resource) for f in report.findings}

    whole = verdicts(CROSS)
    alone: set[tuple[str, str, str, str]] = set()
    for path in sorted(CROSS.rglob("bucket*.yaml")):
        alone |= {(path.relative_to(CROSS).as_posix(), *v[1:]) for v in verdicts(path)}
    assert whole == alone
    assert {(f, rule, cat) for f, rule, cat, _ in whole} == {
        ("failing/byname/v1beta2/bucketserversideencryptionconfiguration.yaml", "RES004", "placement"),
        ("failing/selector/v1beta2/bucketserversideencryptionconfiguration.yaml", "RES004", "placement"),
    }
    assert len(whole) == 4  # the US key itself and the EU bucket it protects, in each failing copy


def test_labels_still_ambiguous_in_one_directory_are_reported() -> None:
    key = ("apiVersion: kms.aws.upbound.io/v1beta1\nkind: Key\nmetadata:\n  name: {n}\n  labels: {{k: mykey}}\n"
           "spec:\n  forProvider: {{region: eu-west-1}}\n")
    config = ("apiVersion: s3.aws.upbound.io/v1beta2\nkind: BucketServerSideEncryptionConfiguration\nmetadata:\n"
              "  name: c\nspec:\n  forProvider:\n    region: eu-west-1\n    bucket: b\n    rule:\n"
              "    - applyServerSideEncryptionByDefault:\n        kmsMasterKeyIdSelector:\n"
              "          matchLabels: {k: mykey}\n        sseAlgorithm: aws:kms\n")
    files = [("d/config.yaml", config.encode()), ("d/key1.yaml", key.format(n="k1").encode()),
             ("d/key2.yaml", key.format(n="k2").encode())]
    loaded = load_kubernetes(files)
    (cfg,) = [r for r in loaded.resources if r.file == "d/config.yaml"]
    (unknown,) = [r for r in _refs(cfg.attributes) if isinstance(r, Unknown)]
    assert "matches 2 objects" in unknown.reason


def test_overlay_patches_are_judged_as_patched_objects() -> None:
    loaded = load_kubernetes(_files(KUST))
    by_file = {(r.file, r.address): r for r in loaded.resources}
    us_sc = by_file[("overlays/us/storageclass.yaml", "StorageClass/us-ebs-sc")]  # namePrefix: us-
    assert us_sc.attributes["parameters"]["encrypted"] == "false"
    assert us_sc.attributes["provisioner"] == "ebs.csi.aws.com"  # the base's, merged
    assert us_sc.line == 2
    us_app = by_file[("overlays/us/region.yaml", "Deployment/us-ldap")]
    assert us_app.attributes["spec"]["template"]["spec"]["nodeSelector"] == {
        "topology.kubernetes.io/region": "us-east-1"}
    eu_app = by_file[("overlays/eu/kustomization.yaml", "Deployment/ldap-eu/ldap")]  # inline patch + namespace
    assert eu_app.attributes["spec"]["template"]["spec"]["nodeSelector"] == {
        "topology.kubernetes.io/region": "eu-central-1"}
    eu_sc = by_file[("overlays/eu/storageclass.yaml", "StorageClass/ebs-sc")]
    assert eu_sc.attributes["parameters"]["encrypted"] == "true"  # base kept, key added
    assert eu_sc.attributes["allowedTopologies"][0]["matchLabelExpressions"][0]["values"] == ["eu-central-1a"]
    # A patch file is no object of its own; the base files are still judged as they are.
    # (the US ConfigMap patch changes the base's generated ConfigMap: that object, at the patch)
    assert [r.address for r in loaded.resources if r.file == "overlays/us/configmap.yaml"] == [
        "ConfigMap/us-ldap-configmap"]
    assert ("base/storageclass.yaml", "StorageClass/ebs-sc") in by_file
    assert {n.file for n in loaded.notes if n.message == PATCH_NOTE.format("overlays/us/kustomization.yaml")} == {
        "overlays/us/storageclass.yaml", "overlays/us/region.yaml", "overlays/us/configmap.yaml"}
    # The remote base is never fetched: a finding, and its patch is not judged as a partial object.
    assert [(p.category, p.file, p.line) for p in loaded.problems] == [
        (Category.UNRESOLVED, "overlays/helm/kustomization.yaml", 7),
        (Category.UNRESOLVED, "overlays/remote/kustomization.yaml", 2)]
    assert not any(r.file == "overlays/remote/storageclass.yaml" for r in loaded.resources)


def test_kustomize_scan_findings_point_at_the_patches() -> None:
    report = scan(ScanOptions(paths=[KUST], cwd=KUST, use_cache=False), load_policy(KUST / "residency.yaml"))
    found = sorted((Path(f.file).name, Path(f.file).parent.name, f.line, f.rule_id, f.category.value)
                   for f in report.findings)
    assert found == [
        ("kustomization.yaml", "helm", 7, "RES901", "unresolved"),  # helmCharts: never rendered
        ("kustomization.yaml", "remote", 2, "RES901", "unresolved"),
        ("kustomization.yaml", "telemetry", 8, "RES007", "movement"),  # generated ConfigMap's collector config
        ("region.yaml", "us", 2, "RES005", "placement"),
        ("storageclass.yaml", "us", 2, "RES003", "encryption"),
    ]


def test_kustomized_files_share_the_overlays_unit() -> None:
    extra = ("elsewhere/deploy.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n")
    files = [*_files(KUST), extra]
    units = manifest_units(files)
    shared = {files[i][0] for i in units[0]}
    assert {"base/deployment.yaml", "overlays/us/region.yaml", "overlays/us/configmap.yaml"} <= shared
    assert [[files[i][0] for i in u] for u in units[1:]] == [["elsewhere/deploy.yaml"]]


def _docs(text: str) -> list[tuple[object, int]]:
    from scanner.loaders.kubernetes import parse_documents

    return parse_documents(text)[0]


def test_strategic_merge_rules() -> None:
    base = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n"
            "      nodeSelector: {a: '1', b: '2'}\n      containers:\n      - {name: app, image: x}\n"
            "      - {name: side, image: y}\n      tolerations: [{key: t1}]\n")
    patch = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n"
             "      nodeSelector: {a: null, c: '3'}\n      containers:\n      - {name: app, image: z}\n"
             "      - {name: side, $patch: delete}\n      tolerations: [{key: t2}]\n")
    files = {"k/kustomization.yaml": _docs("resources: [d.yaml]\npatches: [{path: p.yaml}]\n"),
             "k/d.yaml": _docs(base), "k/p.yaml": _docs(patch)}
    (obj,) = render_kustomizations(files, lambda t: _docs(t), is_cluster_scoped).objects
    spec = obj[0]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"b": "2", "c": "3"}
    assert spec["containers"] == [{"name": "app", "image": "z"}]  # merged by name, one deleted
    assert spec["tolerations"] == [{"key": "t2"}]  # no merge key: replaced


def test_a_patch_that_cannot_apply_fails_closed() -> None:
    base = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: sc}\nprovisioner: ebs.csi.aws.com\n"
    files = {"k/kustomization.yaml": _docs(
        "resources: [sc.yaml]\npatches:\n- path: p.yaml\n  target: {kind: StorageClass}\n- path: q.yaml\n"),
        "k/sc.yaml": _docs(base),
        "k/p.yaml": _docs("- {op: replace, path: /parameters/encrypted, value: 'false'}\n"),
        "k/q.yaml": _docs("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: other}\n")}
    rendered = render_kustomizations(files, lambda t: _docs(t), is_cluster_scoped)
    assert rendered.objects == []
    assert sorted((p.file, p.category) for p in rendered.problems) == [
        ("k/p.yaml", Category.UNRESOLVED), ("k/q.yaml", Category.UNRESOLVED)]
    assert "does not exist" in next(p.message for p in rendered.problems if p.file == "k/p.yaml")
    assert "names no object" in next(p.message for p in rendered.problems if p.file == "k/q.yaml")


NAMESPACES = FIXTURES / "namespaces"


def test_ack_region_comes_from_the_nearest_namespace_of_that_name() -> None:
    """Two apps each create a Namespace "shop" (EU and US regions): each app's Bucket takes its own app's
    region; a Bucket with no Namespace of that name in or above its directory is unresolved, not the last read."""
    report = scan(ScanOptions(paths=[NAMESPACES], cwd=NAMESPACES, use_cache=False),
                  load_policy(NAMESPACES / "residency.yaml"))
    found = sorted((Path(f.file).parent.name, f.rule_id, f.category.value) for f in report.findings)
    assert found == [("app-twice", "RES001", "unresolved"), ("app-us", "RES001", "placement")]
    loaded = load_kubernetes(_files(NAMESPACES))
    regions = {r.file: r.provider.region for r in loaded.resources if r.type == "aws_s3_bucket"}
    assert regions["app-eu/storage/bucket.yaml"] == "eu-west-1"
    assert regions["app-us/bucket.yaml"] == "us-east-1"
    assert "2 Namespaces named shop" in str(regions["app-twice/bucket.yaml"])


def test_generators_make_their_configmaps_from_the_scans_files() -> None:
    loaded = load_kubernetes(_files(KUST))  # the YAML files, as the engine gives them
    by_addr = {(r.file, r.address): r for r in loaded.resources}
    agent = by_addr[("overlays/telemetry/kustomization.yaml", "ConfigMap/otel-agent")]
    data = agent.attributes["data"]
    assert "otlp.nr-data.net" in data["relay"] and data["MODE"] == "agent"
    assert agent.line == 8
    # Not YAML, so the loader was not given them: a note each, nothing silently dropped.
    assert {n.message for n in loaded.notes if n.file == "overlays/telemetry/kustomization.yaml"} == {
        GENERATOR_NOTE.format(kind="ConfigMap", name="otel-agent", file="overlays/telemetry/agent.env"),
        GENERATOR_NOTE.format(kind="ConfigMap", name="app-properties",
                              file="overlays/telemetry/application.properties")}
    # The base's generated ConfigMap, patched by the US overlay (patch before namePrefix, as kustomize).
    us_cm = by_addr[("overlays/us/configmap.yaml", "ConfigMap/us-ldap-configmap")]
    assert us_cm.attributes["data"] == {"LDAP_ORGANISATION": "example-us"}
    (helm,) = [p for p in loaded.problems if p.file == "overlays/helm/kustomization.yaml"]
    assert "chart minecraft" in helm.message and helm.category is Category.UNRESOLVED


def test_generator_files_read_through_the_callers_reader_or_reported() -> None:
    files = {"k/kustomization.yaml": _docs(
        "configMapGenerator:\n- name: fb\n  files: [fluent-bit.conf]\n"
        "- name: away\n  files: [../../../outside.conf]\n- name: gone\n  files: [missing.yaml]\n"
        "secretGenerator:\n- name: s\n  literals: [password=pw]\n")}
    conf = "[OUTPUT]\n    Name  es\n    Host  search.us-east-1.es.amazonaws.com\n"
    rendered = render_kustomizations(files, lambda t: _docs(t), is_cluster_scoped,
                                     lambda path: conf if path == "k/fluent-bit.conf" else None)
    objs = {(m["kind"], m["metadata"]["name"]): m for m, _, _ in rendered.objects}
    assert objs[("ConfigMap", "fb")]["data"] == {"fluent-bit.conf": conf}
    assert objs[("Secret", "s")]["data"] == {"password": "cHc="}  # base64, as kustomize writes it
    assert sorted(p.message.split(":")[0] for p in rendered.problems) == [
        "kustomize ConfigMap generator away", "kustomize ConfigMap generator gone"]
    assert all(p.category is Category.UNRESOLVED for p in rendered.problems)


def test_name_prefix_follows_kustomizes_name_references() -> None:
    base = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: ebs-sc}\n"
            "provisioner: ebs.csi.aws.com\n---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
            "spec: {storageClassName: ebs-sc}\n---\napiVersion: v1\nkind: PersistentVolume\n"
            "metadata: {name: other}\nspec: {storageClassName: gp3}\n---\napiVersion: v1\nkind: Namespace\n"
            "metadata: {name: team}\n")
    files = {"b/kustomization.yaml": _docs("resources: [r.yaml]\n"), "b/r.yaml": _docs(base),
             "o/kustomization.yaml": _docs(
                 "resources: [../b]\nnamePrefix: prod-\nnameSuffix: -v1\npatches:\n- path: p.yaml\n"),
             "o/p.yaml": _docs("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
                               "spec: {capacity: {storage: 5Gi}}\n---\napiVersion: v1\nkind: PersistentVolume\n"
                               "metadata: {name: other}\nspec: {capacity: {storage: 5Gi}}\n")}
    rendered = render_kustomizations(files, lambda t: _docs(t), is_cluster_scoped)
    objs = {(m["kind"], m["metadata"]["name"]): (m, f) for m, f, _ in rendered.objects}
    pv, _ = objs[("PersistentVolume", "prod-pv-v1")]
    assert pv["spec"]["storageClassName"] == "prod-ebs-sc-v1"  # the class this kustomization renamed
    other, _ = objs[("PersistentVolume", "prod-other-v1")]
    assert other["spec"]["storageClassName"] == "gp3"  # not one of its objects: the cluster's class
    # The unchanged class is returned too (at its base line), so the patched volume still finds it.
    assert objs[("StorageClass", "prod-ebs-sc-v1")][1] == "b/r.yaml"
    assert ("Namespace", "team") not in objs and ("Namespace", "prod-team-v1") not in objs


def test_simple_replacements_are_applied_and_others_noted() -> None:
    base = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: placement}\n"
            "data: {region: us-east-1, zone: us-east-1a}\n"
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n"
            "      nodeSelector: {app: w}\n      containers:\n      - {name: app, image: 'x:eu-west-1'}\n")
    kustomization = r"""resources: [r.yaml]
replacements:
- source: {kind: ConfigMap, name: placement, fieldPath: data.region}
  targets:
  - select: {kind: Deployment, name: w}
    fieldPaths: [spec.template.spec.nodeSelector.topology\.kubernetes\.io/region]
    options: {create: true}
  - select: {kind: Deployment}
    fieldPaths: ['spec.template.spec.containers.[name=app].image']
    options: {delimiter: ':', index: 1}
- source: {kind: ConfigMap, fieldPath: data.zone}
  targets:
  - select: {labelSelector: app=w}
    fieldPaths: [metadata.annotations.zone]
"""
    files = {"k/kustomization.yaml": _docs(kustomization), "k/r.yaml": _docs(base)}
    rendered = render_kustomizations(files, lambda t: _docs(t), is_cluster_scoped)
    (deployment,) = [m for m, f, line in rendered.objects if m["kind"] == "Deployment"]
    spec = deployment["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"app": "w", "topology.kubernetes.io/region": "us-east-1"}
    assert spec["containers"][0]["image"] == "x:us-east-1"
    assert [(f, line) for m, f, line in rendered.objects if m["kind"] == "Deployment"] == [
        ("k/kustomization.yaml", 3)]
    assert [n.message for n in rendered.notes] == [
        "kustomize replacement not applied (a target selector this scanner does not read); the objects are "
        "judged with the values their files give"]
