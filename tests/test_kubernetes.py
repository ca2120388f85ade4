"""Kubernetes manifests: the loader (lines, addresses, operator translation, what is skipped), the
classifier (placement algebra, storage encryption, backups) and rule RES005.

Tests go through ``load_kubernetes`` and ``classify_kubernetes`` directly; the fixture harness in
test_fixtures.py covers the same manifests end to end through the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.kubernetes import UNPINNED_NOTE, classify_kubernetes
from checks.rules import RuleContext
from checks.rules.workload_placement import RULE, check
from scanner.loaders.kubernetes import (
    HELM_NOTE,
    LineDict,
    has_go_templating,
    is_kubernetes_yaml,
    load_kubernetes,
    snake,
)
from scanner.model import AtLeast, Category, Encryption, Location, Ref, Unknown
from scanner.policy import load_policy
from scanner.regions import catalog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes"


def load(text: str | bytes, path: str = "k8s/app.yaml", region: tuple[str | None, str | None] | None = None):
    data = text.encode() if isinstance(text, str) else text
    hint = (
        None
        if region is None
        else (lambda _p: (region[0], region[1], "policy kubernetes.clusters (residency.yaml)"))
    )
    return load_kubernetes([(path, data)], cluster_region=hint)


def one(text: str, **kwargs):
    result = load(text, **kwargs)
    assert not result.problems, result.problems
    assert len(result.resources) == 1, [r.address for r in result.resources]
    return result.resources[0]


def facts_of(text: str, **kwargs):
    return classify_kubernetes(load(text, **kwargs).resources, catalog())


def policy(tmp_path: Path, extra: str = "") -> RuleContext:
    path = tmp_path / "residency.yaml"
    path.write_text("version: 1\nallowed_regions: [in:eu-locations]\n" + extra)
    pol = load_policy(path)
    return RuleContext(policy=pol, allowed=pol.allowed, catalog=pol.catalog)


def deployment(pod_spec: str, name: str = "web") -> str:
    body = "\n".join("      " + line for line in pod_spec.strip("\n").splitlines())
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\nspec:\n  template:\n    spec:\n{body}\n"
    )


# ------------------------------------------------------------------------------------ loader


def test_addresses_types_and_lines_of_every_document() -> None:
    text = (
        "# leading comment\n"
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ledger-db, namespace: finance}\n"
        "---\n"
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3, namespace: ignored}\n"
        "provisioner: ebs.csi.aws.com\n"
        "---\n"
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\n"
        "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
    )
    result = load(text)
    got = [(r.type, r.address, r.line, r.source) for r in result.resources]
    assert got == [
        ("StatefulSet", "StatefulSet/finance/ledger-db", 2, "kubernetes"),
        ("StorageClass", "StorageClass/gp3", 6, "kubernetes"),
        ("Ingress.networking.k8s.io", "Ingress.networking.k8s.io/shop/web", 11, "kubernetes"),
        ("ConfigMap", "ConfigMap/settings", 15, "kubernetes"),
    ]
    first = result.resources[0]
    assert first.attributes["metadata"]["name"] == "ledger-db"  # the whole manifest
    assert first.extra == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "namespace": "finance",
        "name": "ledger-db",
        "labels": {},
        "annotations": {},
    }
    assert result.files == 1 and not result.problems and not result.notes


def test_list_items_bom_and_stdin() -> None:
    text = (
        "\ufeffapiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Namespace\n    metadata: {name: shop}\n"
        "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: api, namespace: shop}\n"
    )
    result = load(text.encode("utf-8"), path="-", region=("eu-west-1", "aws"))
    assert [(r.address, r.line, r.file) for r in result.resources] == [
        ("Namespace/shop", 4, "-"),
        ("Deployment/shop/api", 7, "-"),
    ]
    hint = result.resources[1].location_hint
    assert hint == Location("aws", "eu-west-1", "policy kubernetes.clusters (residency.yaml)")


def test_mappings_remember_their_lines() -> None:
    resource = one(deployment("nodeSelector:\n  topology.kubernetes.io/region: eu-west-1\n"))
    selector = resource.attributes["spec"]["template"]["spec"]["nodeSelector"]
    assert isinstance(selector, LineDict) and selector.line == 9
    assert selector.key_lines["topology.kubernetes.io/region"] == 9


@pytest.mark.parametrize(
    "name, text",
    [
        (
            "workflow",
            "name: ci\non: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: echo ${{ github.sha }}\n",
        ),
        ("compose", "services:\n  db:\n    image: postgres\n"),
        ("pre-commit", "repos:\n  - repo: local\n    hooks: []\n"),
        ("values", "image: nginx\nextraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n"),
        (
            "kustomization",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
        ),
        ("chart", "apiVersion: v2\nname: shop\nversion: 0.1.0\n"),
        ("empty", ""),
        ("comments", "# nothing\n---\n"),
    ],
)
def test_yaml_that_is_not_kubernetes_is_skipped_without_a_word(name: str, text: str) -> None:
    result = load(text, path=f"{name}.yaml")
    assert (result.resources, result.problems, result.notes) == ([], [], [])


def test_is_kubernetes_yaml() -> None:
    assert is_kubernetes_yaml("apiVersion: v1\nkind: Pod\n")
    assert is_kubernetes_yaml('{"apiVersion": "v1", "kind": "Pod"}')
    assert not is_kubernetes_yaml("image:\n  apiVersion: v1\n  kind: Pod\n")
    assert not is_kubernetes_yaml("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    assert not is_kubernetes_yaml("services:\n  db: {}\n")


def test_helm_templates_are_skipped_with_a_note() -> None:
    template = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
    in_chart = load_kubernetes(
        [
            ("charts/web/Chart.yaml", b"apiVersion: v2\nname: web\n"),
            ("charts/web/templates/deploy.yaml", template),
        ]
    )
    assert [(n.file, n.message) for n in in_chart.notes] == [("charts/web/templates/deploy.yaml", HELM_NOTE)]
    assert in_chart.resources == [] and in_chart.problems == []
    control = b"{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n"
    loose = load(control, path="deploy/cm.yaml")
    assert [n.message for n in loose.notes] == [HELM_NOTE] and not loose.problems
    assert has_go_templating("name: {{ .Values.x }}\n")
    # Go templates inside quoted strings (Prometheus rules, Argo) are data, not templating.
    quoted = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\n"
        'spec:\n  groups:\n    - rules:\n        - annotations: {summary: "{{ $labels.instance }} down"}\n'
    )
    assert [r.address for r in load(quoted).resources] == ["PrometheusRule.monitoring.coreos.com/r"]


def test_parse_error_is_a_problem_with_its_line() -> None:
    result = load("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: [a, b\nspec: {}\n", path="bad.yaml")
    assert [(p.category, p.file, p.line) for p in result.problems] == [(Category.PARSE, "bad.yaml", 5)]
    assert "does not parse" in result.problems[0].message
    undecodable = load(b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff}\n", path="latin1.yaml")
    assert [p.category for p in undecodable.problems] == [Category.PARSE]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    result = load("\n".join(lines) + "\n", path="bomb.yaml")  # its speed is measured in bench/hostile_timing.py
    assert [p.category for p in result.problems] == [Category.PARSE]
    assert "aliases" in result.problems[0].message
    recursive = load("apiVersion: v1\nkind: Pod\nmetadata: &m\n  self: *m\n", path="loop.yaml")
    assert [p.category for p in recursive.problems] == [Category.PARSE]


def test_value_key_merge_keys_and_scalars() -> None:
    text = (
        "base: &base {team: data, tier: gold}\n"
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: c\n  labels:\n    <<: *base\n    tier: silver\n"
        "data:\n  =: equals\n  on: yes\n  n: 0x10\n  when: 2024-01-01\n  none: ~\n"
    )
    resource = one(text)
    assert resource.attributes["metadata"]["labels"] == {"tier": "silver", "team": "data"}
    assert resource.attributes["data"] == {
        "=": "equals",
        "on": True,
        "n": 16,
        "when": "2024-01-01",
        "none": None,
    }


def test_crossplane_aws_translates_to_terraform_shapes() -> None:
    text = (
        "apiVersion: kms.aws.upbound.io/v1beta1\nkind: Key\nmetadata: {name: data-key}\n"
        "spec: {forProvider: {region: eu-west-1}}\n"
        "---\n"
        "apiVersion: dynamodb.aws.upbound.io/v1beta2\nkind: Table\nmetadata: {name: sessions}\n"
        "spec:\n  forProvider:\n    region: eu-west-1\n    tags: {CostCenter: A1}\n"
        "    serverSideEncryption:\n      enabled: true\n      kmsKeyArnRef: {name: data-key}\n"
        "    replica:\n      - regionName: us-east-1\n"
    )
    key, table = load(text).resources
    assert key.type == "aws_kms_key" and key.address == "Key.kms.aws.upbound.io/data-key"
    assert table.type == "aws_dynamodb_table"
    assert table.address == "Table.dynamodb.aws.upbound.io/sessions"
    assert table.extra["kubernetes_type"] == "Table.dynamodb.aws.upbound.io"
    assert table.attributes["tags"] == {"CostCenter": "A1"}  # map arguments keep their keys
    assert table.attributes["server_side_encryption"] == [
        {"enabled": True, "kms_key_arn": Ref("Key.kms.aws.upbound.io/data-key", "arn")}
    ]
    assert table.attributes["replica"] == [{"region_name": "us-east-1"}]
    assert table.provider is not None and table.provider.name == "aws"
    assert table.provider.region == "eu-west-1"
    assert table.provider.source == "spec.forProvider.region (k8s/app.yaml:11)"


def test_crossplane_v1beta1_arrays_and_missing_region() -> None:
    text = (
        "apiVersion: s3.aws.upbound.io/v1beta1\nkind: BucketServerSideEncryptionConfiguration\n"
        "metadata: {name: enc}\nspec:\n  forProvider:\n    rule:\n"
        "      - applyServerSideEncryptionByDefault:\n          - sseAlgorithm: aws:kms\n"
        "            kmsMasterKeyId: arn:aws:kms:eu-west-1:1:key/k\n"
    )
    resource = one(text)
    assert resource.type == "aws_s3_bucket_server_side_encryption_configuration"
    assert resource.attributes["rule"] == [
        {
            "apply_server_side_encryption_by_default": [
                {"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:eu-west-1:1:key/k"}
            ]
        }
    ]
    assert isinstance(resource.provider.region, Unknown)


def test_crossplane_namespaced_group_keeps_namespace() -> None:
    resource = one(
        "apiVersion: s3.aws.m.upbound.io/v1beta1\nkind: Bucket\n"
        "metadata: {name: b, namespace: team}\nspec: {forProvider: {region: eu-west-1}}\n"
    )
    assert (resource.type, resource.address) == ("aws_s3_bucket", "Bucket.s3.aws.m.upbound.io/team/b")


def test_ack_region_resolution_order() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: eu\n  annotations:\n"
        "    services.k8s.aws/default-region: eu-west-1\n---\n"
        "apiVersion: s3.services.k8s.aws/v1alpha1\nkind: Bucket\nmetadata: {name: a, namespace: eu}\n"
        "spec:\n  name: a-bucket\n  encryption:\n    rules:\n      - applyServerSideEncryptionByDefault:\n"
        "          sseAlgorithm: aws:kms\n          kmsMasterKeyID: arn:aws:kms:eu-west-1:1:key/k\n---\n"
        "apiVersion: s3.services.k8s.aws/v1alpha1\nkind: Bucket\nmetadata:\n  name: b\n  namespace: eu\n"
        "  annotations: {services.k8s.aws/region: us-east-1}\nspec: {name: b-bucket}\n---\n"
        "apiVersion: rds.services.k8s.aws/v1alpha1\nkind: DBInstance\nmetadata: {name: c, namespace: other}\n"
        "spec: {storageEncrypted: true, kmsKeyID: arn:aws:kms:eu-west-1:1:key/k}\n"
    )
    _, a, b, c = load(text).resources
    assert (a.type, a.provider.region, a.attributes["bucket"]) == ("aws_s3_bucket", "eu-west-1", "a-bucket")
    assert "Namespace eu annotation services.k8s.aws/default-region" in a.provider.source
    assert a.attributes["server_side_encryption_configuration"][0]["rule"][0][
        "apply_server_side_encryption_by_default"
    ] == [{"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:eu-west-1:1:key/k"}]
    assert b.provider.region == "us-east-1"
    assert c.type == "aws_db_instance" and c.attributes["storage_encrypted"] is True
    assert c.provider.region == Unknown("ACK controller default region is not in the manifests")


def test_config_connector_bucket_defaults_to_us_and_disks_pick_their_type() -> None:
    text = (
        "apiVersion: storage.cnrm.cloud.google.com/v1beta1\nkind: StorageBucket\nmetadata: {name: b}\n"
        "spec:\n  encryption:\n"
        "    kmsKeyRef: {external: projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k}\n"
        "---\n"
        "apiVersion: compute.cnrm.cloud.google.com/v1beta1\nkind: ComputeDisk\nmetadata: {name: z}\n"
        "spec: {location: europe-west4-a}\n---\n"
        "apiVersion: compute.cnrm.cloud.google.com/v1beta1\nkind: ComputeDisk\nmetadata: {name: r}\n"
        "spec: {location: europe-west4, replicaZones: [europe-west4-a, europe-west4-b]}\n"
    )
    bucket, zonal, regional = load(text).resources
    assert bucket.type == "google_storage_bucket" and "location" not in bucket.attributes
    assert (bucket.location_hint.cloud, bucket.location_hint.code) == ("gcp", "US")  # the CRD default
    assert "spec.location is not set" in bucket.location_hint.source
    assert bucket.attributes["encryption"] == [
        {"default_kms_key_name": Ref("projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k")}
    ]
    assert (zonal.type, zonal.attributes["zone"]) == ("google_compute_disk", "europe-west4-a")
    assert (regional.type, regional.attributes["region"]) == ("google_compute_region_disk", "europe-west4")


def test_azure_service_operator_inherits_owner_location() -> None:
    text = (
        "apiVersion: resources.azure.com/v1api20200601\n"
        "kind: ResourceGroup\nmetadata: {name: rg, namespace: a}\n"
        "spec: {location: westeurope}\n---\n"
        "apiVersion: storage.azure.com/v1api20230101\n"
        "kind: StorageAccount\nmetadata: {name: s, namespace: a}\n"
        "spec: {owner: {name: rg}, sku: {name: Standard_RAGRS}}\n---\n"
        "apiVersion: storage.azure.com/v1api20230101\n"
        "kind: StorageAccount\nmetadata: {name: t, namespace: a}\n"
        "spec: {owner: {name: missing}, sku: {name: Standard_LRS}}\n"
    )
    _, inherited, orphan = load(text).resources
    assert inherited.type == "azurerm_storage_account"
    assert inherited.attributes["location"] == "westeurope"
    assert inherited.attributes["account_replication_type"] == "RAGRS"
    assert isinstance(orphan.attributes["location"], Unknown)


def test_snake_case() -> None:
    assert [
        snake(s)
        for s in (
            "kmsKeyId",
            "kmsKeyID",
            "serverSideEncryption",
            "regionName",
            "encryptionKMSCryptoKeyRef",
            "region",
        )
    ] == [
        "kms_key_id",
        "kms_key_id",
        "server_side_encryption",
        "region_name",
        "encryption_kms_crypto_key_ref",
        "region",
    ]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"\n #=<~\t0.%@`,?")), max_size=120))
def test_loader_never_raises_on_arbitrary_yaml(text: str) -> None:
    result = load(text, path="fuzz.yaml")
    assert all(p.category is Category.PARSE and p.line >= 1 for p in result.problems)


# ------------------------------------------------------------------------------ workloads


def _placement(text: str, region: tuple[str | None, str | None] | None = None):
    (facts,) = facts_of(text, region=region)
    assert facts.role == "workload" and facts.holds_user_data is False
    codes = [facts.location] + [c.location for c in facts.copies if c.kind == "placement"]
    return facts, [(loc.cloud, loc.code) if isinstance(loc, Location) else loc for loc in codes]


def test_node_selector_region_and_zone_labels() -> None:
    _, got = _placement(deployment("nodeSelector:\n  topology.kubernetes.io/region: eu-west-1\n"))
    assert got == [("aws", "eu-west-1")]
    _, got = _placement(
        deployment("nodeSelector:\n  failure-domain.beta.kubernetes.io/zone: europe-west4-b\n")
    )
    assert got == [("gcp", "europe-west4")]
    # region and zone AND: contradictory -> schedulable nowhere, no location and a note
    facts, got = _placement(
        deployment(
            "nodeSelector:\n  topology.kubernetes.io/region: eu-west-1\n"
            "  topology.kubernetes.io/zone: us-east-1a\n"
        )
    )
    assert got == [None] and facts.notes


def test_affinity_terms_are_ored_and_expressions_anded() -> None:
    affinity = (
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      nodeSelectorTerms:\n"
        "        - matchExpressions:\n"
        "            - {key: topology.kubernetes.io/region, operator: In, values: [eu-west-1, us-east-1]}\n"
        "            - {key: topology.kubernetes.io/region, operator: NotIn, values: [us-east-1]}\n"
        "        - matchExpressions:\n"
        "            - {key: topology.kubernetes.io/zone, operator: In, values: [eu-central-1a]}\n"
    )
    _, got = _placement(deployment(affinity))
    assert got == [("aws", "eu-west-1"), ("aws", "eu-central-1")]
    # nodeSelector ANDs with the affinity
    _, got = _placement(
        deployment(affinity + "nodeSelector: {topology.kubernetes.io/region: eu-central-1}\n")
    )
    assert got == [("aws", "eu-central-1")]


@pytest.mark.parametrize(
    "expression, why",
    [
        ("{key: topology.kubernetes.io/region, operator: NotIn, values: [us-east-1]}", "NotIn"),
        ("{key: topology.kubernetes.io/region, operator: Exists}", "Exists"),
        ("{key: topology.kubernetes.io/zone, operator: DoesNotExist}", "DoesNotExist"),
    ],
)
def test_unbounded_constraints_are_unknown(expression: str, why: str) -> None:
    pod = (
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
        f"      nodeSelectorTerms:\n        - matchExpressions:\n            - {expression}\n"
    )
    facts, _ = _placement(deployment(pod))
    assert isinstance(facts.location, Unknown) and why in facts.location.reason


def test_a_term_without_a_region_makes_the_union_unbounded() -> None:
    pod = (
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      nodeSelectorTerms:\n"
        "        - matchExpressions:\n"
        "            - {key: topology.kubernetes.io/region, operator: In, values: [eu-west-1]}\n"
        "        - matchExpressions:\n"
        "            - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}\n"
    )
    facts, _ = _placement(deployment(pod))
    assert (
        isinstance(facts.location, Unknown) and "[1] does not constrain the region" in facts.location.reason
    )


def test_preferred_affinity_and_other_keys_leave_a_workload_unpinned() -> None:
    pod = (
        "nodeSelector: {kubernetes.io/os: linux}\naffinity:\n  nodeAffinity:\n"
        "    preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 1\n        preference:\n"
        "          matchExpressions:\n"
        "            - {key: topology.kubernetes.io/region, operator: In, values: [us-east-1]}\n"
    )
    facts, got = _placement(deployment(pod))
    assert got == [None] and facts.notes == [UNPINNED_NOTE]
    facts, got = _placement(deployment(pod), region=("eu-west-1", "aws"))
    assert got == [("aws", "eu-west-1")] and facts.location.source.startswith("cluster region from policy")
    facts, got = _placement(deployment(pod), region=("europe-west4", None))  # cloud inferred from the code
    assert got == [("gcp", "europe-west4")]


def test_pod_and_cronjob_specs_are_found() -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  nodeSelector: {topology.kubernetes.io/region: eu-north-1}\n"
    )
    cron = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n"
        "      template:\n        spec:\n          nodeSelector: {topology.kubernetes.io/region: us-west-2}\n"
    )
    assert _placement(pod)[1] == [("aws", "eu-north-1")]
    assert _placement(cron)[1] == [("aws", "us-west-2")]


def test_labels_become_tags_for_exemptions() -> None:
    text = deployment("nodeSelector: {topology.kubernetes.io/region: us-east-1}\n").replace(
        "  name: web\n", "  name: web\n  labels: {data-classification: public}\n"
    )
    (facts,) = facts_of(text)
    assert facts.tags == {"data-classification": "public"}


# ------------------------------------------------------------------------------------ RES005


def test_res005_flags_each_admitted_region_outside(tmp_path: Path) -> None:
    ctx = policy(tmp_path)
    pod = (
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      nodeSelectorTerms:\n        - matchExpressions:\n"
        "            - {key: topology.kubernetes.io/region, operator: In, values: [eu-west-1, us-east-1]}\n"
    )
    (facts,) = facts_of(deployment(pod))
    violations = list(check(facts, ctx))
    assert [(v.category, v.region, v.country) for v in violations] == [
        (Category.PLACEMENT, "us-east-1", "US")
    ]
    assert "us-east-1" in violations[0].provenance and violations[0].line is None
    (ok,) = facts_of(deployment("nodeSelector: {topology.kubernetes.io/region: eu-west-1}\n"))
    assert list(check(ok, ctx)) == []


def test_res005_unknowns_and_require_placement(tmp_path: Path) -> None:
    ctx = policy(tmp_path)
    (typo,) = facts_of(deployment("nodeSelector: {topology.kubernetes.io/region: eu-wset-1}\n"))
    assert [v.category for v in check(typo, ctx)] == [Category.UNRESOLVED]
    (unpinned,) = facts_of(deployment("containers: []\n"))
    assert list(check(unpinned, ctx)) == []
    strict = policy(tmp_path, "kubernetes:\n  require_placement: true\n")
    assert [v.category for v in check(unpinned, strict)] == [Category.UNRESOLVED]


def test_res005_is_registered_and_documented() -> None:
    from checks.rules import RULES

    assert RULES["RES005"] is RULE
    assert RULE.roles == ("workload",) and RULE.name == "workload-outside-allowed-regions"
    for section in ("What it checks", "Why it matters", "Example", "How to fix", "Controls"):
        assert section in RULE.doc


# ------------------------------------------------------------------------------ storage


def storage_class(provisioner: str, params: str = "", extra: str = "") -> str:
    text = (
        f"apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"
        f"metadata: {{name: sc}}\nprovisioner: {provisioner}\n"
    )
    if params:
        text += "parameters:\n" + "".join(f"  {line}\n" for line in params.strip().splitlines())
    return text + extra


@pytest.mark.parametrize(
    "provisioner, params, level",
    [
        ("ebs.csi.aws.com", "", Encryption.NONE),
        ("ebs.csi.aws.com", 'encrypted: "false"', Encryption.NONE),
        ("ebs.csi.aws.com", 'ENCRYPTED: "true"', Encryption.PROVIDER),
        (
            "ebs.csi.aws.com",
            'encrypted: "true"\nkmsKeyId: arn:aws:kms:eu-west-1:1:key/k',
            Encryption.CUSTOMER,
        ),
        (
            "kubernetes.io/aws-ebs",
            'encrypted: "true"\nkmskeyid: arn:aws:kms:eu-west-1:1:alias/aws/ebs',
            Encryption.PROVIDER,
        ),
        ("pd.csi.storage.gke.io", "", Encryption.PROVIDER),
        (
            "pd.csi.storage.gke.io",
            "disk-encryption-kms-key: projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
            Encryption.CUSTOMER,
        ),
        ("disk.csi.azure.com", "", Encryption.PROVIDER),
        (
            "disk.csi.azure.com",
            "diskEncryptionSetID: /subscriptions/s/resourceGroups/r/providers/x/des",
            Encryption.CUSTOMER,
        ),
        ("file.csi.azure.com", "", Encryption.PROVIDER),
    ],
)
def test_storage_class_encryption_by_provisioner(provisioner: str, params: str, level: Encryption) -> None:
    (facts,) = facts_of(storage_class(provisioner, params))
    assert facts.role == "data-store" and facts.encryption is level


@pytest.mark.parametrize(
    "provisioner, params, words",
    [
        ("efs.csi.aws.com", "fileSystemId: fs-1234", "EFS file system fs-1234"),
        ("nfs.csi.k8s.io", "server: nfs.local", "NFS server"),
        ("example.com/custom", "", "not one the scanner knows"),
    ],
)
def test_storage_class_encryption_unknown_fails_closed(provisioner: str, params: str, words: str) -> None:
    (facts,) = facts_of(storage_class(provisioner, params))
    assert isinstance(facts.encryption, Unknown) and words in facts.encryption.reason


def test_storage_class_location_and_key_location() -> None:
    topology = (
        "allowedTopologies:\n  - matchLabelExpressions:\n"
        "      - {key: topology.kubernetes.io/zone, values: [eu-west-1a, eu-west-1b]}\n"
    )
    (facts,) = facts_of(
        storage_class(
            "ebs.csi.aws.com", 'encrypted: "true"\nkmsKeyId: arn:aws:kms:us-east-1:1:key/k', topology
        )
    )
    assert facts.location == Location("aws", "eu-west-1", facts.location.source)
    assert [(k.location.cloud, k.location.code) for k in facts.keys] == [("aws", "us-east-1")]
    (unplaced,) = facts_of(storage_class("ebs.csi.aws.com"))
    assert unplaced.location is None
    (hinted,) = facts_of(storage_class("ebs.csi.aws.com"), region=("eu-central-1", "aws"))
    assert hinted.location.code == "eu-central-1"


def test_azure_files_grs_copies_to_the_pair() -> None:
    (facts,) = facts_of(storage_class("file.csi.azure.com", "skuName: Standard_GRS\nlocation: West Europe"))
    assert [(c.kind, c.location.code) for c in facts.copies] == [("geo-pair", "northeurope")]
    (hinted,) = facts_of(
        storage_class("file.csi.azure.com", "skuName: Standard_RAGZRS"), region=("northeurope", "azure")
    )
    assert [c.location.code for c in hinted.copies] == ["westeurope"]
    (blind,) = facts_of(storage_class("file.csi.azure.com", "storageAccountType: Standard_GRS"))
    assert isinstance(blind.copies[0].location, Unknown)
    (lrs,) = facts_of(storage_class("file.csi.azure.com", "skuName: Premium_LRS\nlocation: westeurope"))
    assert lrs.copies == []


def test_persistent_volume_placement_and_encryption() -> None:
    sc = storage_class("ebs.csi.aws.com", 'encrypted: "true"').replace("name: sc", "name: fast")
    pv = (
        "---\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv\n"
        "  labels: {failure-domain.beta.kubernetes.io/zone: eu-west-3a}\n"
        "spec:\n  storageClassName: fast\n  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}\n"
    )
    _, facts = facts_of(sc + pv)
    assert facts.resource.address == "PersistentVolume/pv"
    assert (facts.location.cloud, facts.location.code) == ("aws", "eu-west-3")
    assert facts.encryption is Encryption.PROVIDER
    (static,) = facts_of(pv.replace("  storageClassName: fast\n", ""))
    assert isinstance(static.encryption, Unknown) and "vol-1" in static.encryption.reason


def test_velero_locations_are_backup_copies() -> None:
    text = (
        "apiVersion: velero.io/v1\nkind: BackupStorageLocation\nmetadata: {name: a, namespace: velero}\n"
        "spec: {provider: aws, objectStorage: {bucket: b}, config: {region: us-east-1}}\n---\n"
        "apiVersion: velero.io/v1\nkind: BackupStorageLocation\nmetadata: {name: b, namespace: velero}\n"
        "spec: {provider: velero.io/aws, objectStorage: {bucket: b}}\n---\n"
        "apiVersion: velero.io/v1\nkind: VolumeSnapshotLocation\nmetadata: {name: c, namespace: velero}\n"
        "spec: {provider: velero.io/gcp, config: {snapshotLocation: europe-west4}}\n"
    )
    a, b, c = facts_of(text)
    assert a.resource.address == "BackupStorageLocation.velero.io/velero/a"
    assert [(x.kind, x.location.cloud, x.location.code) for x in a.copies] == [("backup", "aws", "us-east-1")]
    assert a.location is None and a.encryption is None
    assert isinstance(b.copies[0].location, Unknown) and "region" in b.copies[0].location.reason
    assert (c.copies[0].location.cloud, c.copies[0].location.code) == ("gcp", "europe-west4")


def test_translated_resources_are_left_to_the_terraform_catalog() -> None:
    text = (
        "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\n"
        "metadata: {name: b}\nspec: {forProvider: {region: eu-west-1}}\n"
    )
    assert facts_of(text) == []


def test_fixture_tree_loads_without_parse_noise() -> None:
    # kustomize/ has a remote base on purpose (a finding) and patch notes: tests/test_kubernetes_crossfile.py
    files = [(p.relative_to(FIXTURES).as_posix(), p.read_bytes()) for p in sorted(FIXTURES.rglob("*.y*ml"))
             if not p.relative_to(FIXTURES).as_posix().startswith("kustomize/")]
    result = load_kubernetes(files)
    assert [p.file for p in result.problems] == ["broken/unclosed.yaml"]
    assert sorted({n.file for n in result.notes}) == ["chart/templates/deployment.yaml"]
    types = {r.type for r in result.resources}
    assert {"aws_s3_bucket", "google_storage_bucket", "azurerm_storage_account", "Deployment"} <= types


# ------------------------------------------------------------------------------------ realistic gaps


def test_ebs_encrypted_messages_and_kms_key_line_are_case_insensitive() -> None:
    unset, false = facts_of(
        storage_class("ebs.csi.aws.com", "type: gp2")
        + "---\n"
        + storage_class("ebs.csi.aws.com", 'Encrypted: "False"').replace("name: sc", "name: sc2")
    )
    assert unset.encryption is Encryption.NONE and "not set" in unset.encryption_source
    assert false.encryption is Encryption.NONE and 'is "False"' in false.encryption_source
    text = storage_class(
        "ebs.csi.aws.com", 'encrypted: "True"\nKMSKeyId: arn:aws:kms:us-east-1:1:key/k'
    )
    (facts,) = facts_of(text)
    key_line = text.splitlines().index("  KMSKeyId: arn:aws:kms:us-east-1:1:key/k") + 1
    assert facts.encryption is Encryption.CUSTOMER
    assert facts.keys[0].location.code == "us-east-1" and f"k8s/app.yaml:{key_line}" in facts.keys[0].location.source


def test_persistent_volume_finds_its_class_in_another_file() -> None:
    sc = storage_class("ebs.csi.aws.com", 'encrypted: "true"').replace("name: sc", "name: fast")
    pv = (
        "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv\n"
        "spec:\n  storageClassName: fast\n  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1}\n"
    )
    result = load_kubernetes([("k8s/classes.yaml", sc.encode()), ("k8s/volumes.yaml", pv.encode())])
    volume = [r for r in result.resources if r.type == "PersistentVolume"]
    (facts,) = classify_kubernetes(volume, catalog())  # classified alone, as the engine does per file
    assert facts.encryption is Encryption.PROVIDER and "StorageClass/fast" in facts.encryption_source
    twice = load_kubernetes(
        [("a/classes.yaml", sc.encode()), ("b/classes.yaml", sc.encode()), ("k8s/volumes.yaml", pv.encode())]
    )
    (pv_resource,) = [r for r in twice.resources if r.type == "PersistentVolume"]
    assert "storage_class" not in pv_resource.extra  # ambiguous: two classes of that name elsewhere


def test_gce_snapshot_default_location_is_the_nearest_multi_region() -> None:
    vsc = (
        "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata: {name: pd}\n"
        "driver: pd.csi.storage.gke.io\ndeletionPolicy: Delete\n"
    )
    (blind,) = facts_of(vsc)
    assert isinstance(blind.copies[0].location, Unknown) and "nearest" in blind.copies[0].location.reason
    (eu,) = facts_of(vsc, region=("europe-west4", "gcp"))
    assert (eu.copies[0].location.cloud, eu.copies[0].location.code) == ("gcp", "EU")
    (us,) = facts_of(vsc, region=("us-central1", "gcp"))
    assert us.copies[0].location.code == "US"
    (london,) = facts_of(vsc, region=("europe-west2", "gcp"))  # in no multi-region: not guessed
    assert isinstance(london.copies[0].location, Unknown)
    both = facts_of(vsc.replace("pd.csi.storage.gke.io", "ebs.csi.aws.com") + "---\n" + vsc)
    assert [f.resource.attributes["driver"] for f in both] == ["pd.csi.storage.gke.io"]  # EBS: stays put
    upper = vsc + "parameters:\n  Storage-Locations: europe-west1\n"
    (explicit,) = facts_of(upper)
    assert explicit.copies[0].location.code == "europe-west1"


def test_velero_in_cluster_minio_and_azure_snapshots_stay_put() -> None:
    minio = (
        "apiVersion: velero.io/v1\nkind: BackupStorageLocation\nmetadata: {name: m, namespace: velero}\n"
        "spec:\n  provider: aws\n  objectStorage: {bucket: velero}\n"
        "  config: {region: minio, s3ForcePathStyle: 'true', s3Url: 'http://minio.velero.svc:9000'}\n"
    )
    (alone,) = facts_of(minio)
    assert alone.copies == []
    (mapped,) = facts_of(minio, region=("us-east-1", "aws"))
    assert mapped.copies[0].location.code == "us-east-1" and "in-cluster" in mapped.copies[0].location.source
    external = minio.replace("http://minio.velero.svc:9000", "https://s3.wasabisys.com")
    (remote,) = facts_of(external)
    assert isinstance(remote.copies[0].location, Unknown)
    vsl = (
        "apiVersion: velero.io/v1\nkind: VolumeSnapshotLocation\nmetadata: {name: a, namespace: velero}\n"
        "spec: {provider: velero.io/azure, config: {resourceGroup: rg}}\n"
    )
    (azure,) = facts_of(vsl)
    assert azure.copies == []
    bsl = (
        "apiVersion: velero.io/v1\nkind: BackupStorageLocation\nmetadata: {name: a, namespace: velero}\n"
        "spec: {provider: velero.io/azure, objectStorage: {bucket: c}, config: {storageAccount: acct}}\n"
    )
    (blob,) = facts_of(bsl)
    assert "storage account acct" in blob.copies[0].location.reason


def test_crossplane_selectors_resolve_by_labels_within_the_family() -> None:
    key = (
        "apiVersion: kms.aws.upbound.io/v1beta1\nkind: Key\nmetadata:\n  name: {name}\n"
        "  labels: {{purpose: {purpose}}}\nspec: {{forProvider: {{region: {region}}}}}\n---\n"
    )
    keys = key.format(name="k-eu", purpose="data", region="eu-west-1") + key.format(
        name="k-us", purpose="logs", region="us-east-1"
    )
    sse = (
        "apiVersion: s3.aws.upbound.io/v1beta1\nkind: BucketServerSideEncryptionConfiguration\n"
        "metadata: {name: sse}\nspec:\n  forProvider:\n    region: eu-west-1\n    bucketRef: {name: b}\n"
        "    rule:\n      - applyServerSideEncryptionByDefault:\n          - sseAlgorithm: aws:kms\n"
        "            kmsMasterKeyIdSelector: {matchLabels: {purpose: PURPOSE}, matchControllerRef: true}\n"
    )
    resources = load(keys + sse.replace("PURPOSE", "logs")).resources
    rule = resources[-1].attributes["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert rule["kms_master_key_id"] == Ref("Key.kms.aws.upbound.io/k-us", "arn")
    # Another family's object with the same labels is never picked (ACK Key).
    ack = (
        "apiVersion: kms.services.k8s.aws/v1alpha1\nkind: Key\n"
        "metadata:\n  name: other\n  labels: {purpose: x}\n---\n"
    )
    rule = load(ack + sse.replace("PURPOSE", "x")).resources[-1].attributes["rule"][0]
    assert rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == Ref("Key[purpose=x]", "arn")
    # Two matches: Crossplane picks one, so the scanner does not guess.
    both = keys.replace("purpose: logs", "purpose: data")
    rule = load(both + sse.replace("PURPOSE", "data")).resources[-1].attributes["rule"][0]
    value = rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"]
    assert isinstance(value, Unknown) and "matches 2 objects" in value.reason


def test_crossplane_namespaced_refs_follow_the_ref_namespace() -> None:
    text = (
        "apiVersion: kms.aws.m.upbound.io/v1beta1\nkind: Key\nmetadata: {name: k, namespace: keys}\n"
        "spec: {forProvider: {region: eu-west-1}}\n---\n"
        "apiVersion: rds.aws.m.upbound.io/v1beta1\nkind: Instance\nmetadata: {name: db, namespace: app}\n"
        "spec: {forProvider: {region: eu-west-1, storageEncrypted: true, kmsKeyIdRef: {name: k, namespace: keys}}}\n"
    )
    _, db = load(text).resources
    assert db.address == "Instance.rds.aws.m.upbound.io/app/db"
    assert db.attributes["kms_key_id"] == Ref("Key.kms.aws.m.upbound.io/keys/k", "arn")


def test_config_connector_project_from_namespace_default() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: g\n"
        "  annotations: {cnrm.cloud.google.com/project-id: ns-project}\n---\n"
        "apiVersion: storage.cnrm.cloud.google.com/v1beta1\nkind: StorageBucket\nmetadata: {name: a, namespace: g}\n"
        "spec: {location: EU}\n---\n"
        "apiVersion: storage.cnrm.cloud.google.com/v1beta1\nkind: StorageBucket\nmetadata:\n  name: b\n"
        "  namespace: g\n  annotations: {cnrm.cloud.google.com/project-id: own-project}\nspec: {location: EU}\n"
    )
    _, a, b = load(text).resources
    assert a.attributes["project"] == "ns-project" and "Namespace g" in a.provider.source
    assert b.attributes["project"] == "own-project"
    assert a.attributes["location"] == "EU" and a.location_hint is None


def test_azure_service_operator_data_stores() -> None:
    from checks.catalog import classify

    text = (
        "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata: {name: rg, namespace: a}\n"
        "spec: {location: westeurope}\n---\n"
        "apiVersion: dbforpostgresql.azure.com/v1api20230601preview\nkind: FlexibleServer\n"
        "metadata: {name: pg, namespace: a}\n"
        "spec: {owner: {name: rg}, backup: {geoRedundantBackup: Enabled},\n"
        "  dataEncryption: {type: AzureKeyVault, primaryKeyURI: 'https://kv.vault.azure.net/keys/k/1'}}\n---\n"
        "apiVersion: dbforpostgresql.azure.com/v1api20230601preview\nkind: FlexibleServersDatabase\n"
        "metadata: {name: orders, namespace: a}\nspec: {owner: {name: pg}}\n---\n"
        "apiVersion: documentdb.azure.com/v1api20231115\nkind: DatabaseAccount\n"
        "metadata: {name: cosmos, namespace: a}\n"
        "spec:\n  location: West Europe\n  owner: {name: rg}\n"
        "  locations: [{locationName: westeurope, failoverPriority: 0}, {locationName: eastus, failoverPriority: 1}]\n"
        "---\n"
        "apiVersion: cache.azure.com/v1api20230801\nkind: Redis\nmetadata: {name: redis, namespace: a}\n"
        "spec: {owner: {name: rg}, sku: {family: C, name: Basic, capacity: 0}}\n---\n"
        "apiVersion: sql.azure.com/v1api20211101\nkind: Server\nmetadata: {name: sql, namespace: a}\n"
        "spec: {location: northeurope, owner: {name: rg}}\n---\n"
        "apiVersion: sql.azure.com/v1api20211101\nkind: ServersDatabase\nmetadata: {name: db, namespace: a}\n"
        "spec: {owner: {name: sql}, requestedBackupStorageRedundancy: Local}\n---\n"
        "apiVersion: keyvault.azure.com/v1api20230701\nkind: Vault\nmetadata: {name: kv, namespace: a}\n"
        "spec: {location: eastus, owner: {name: rg}}\n"
    )
    resources = load(text).resources
    types = [r.type for r in resources]
    assert types == [
        "azurerm_resource_group",
        "azurerm_postgresql_flexible_server",
        "azurerm_postgresql_flexible_server_database",
        "azurerm_cosmosdb_account",
        "azurerm_redis_cache",
        "azurerm_mssql_server",
        "azurerm_mssql_database",
        "azurerm_key_vault",
    ]
    facts = {f.resource.address.rsplit("/", 1)[1]: f for f in classify(resources, catalog())}
    pg = facts["pg"]
    assert pg.location.code == "westeurope" and pg.encryption is Encryption.CUSTOMER
    assert [(c.kind, c.location.code) for c in pg.copies] == [("backup", "northeurope")]
    assert facts["orders"].location.code == "westeurope"  # owner chain: database -> server -> group
    assert [(c.kind, c.location.code) for c in facts["cosmos"].copies if c.kind == "replica"] == [
        ("replica", "eastus")
    ]
    assert facts["redis"].location.code == "westeurope"
    assert facts["db"].location.code == "northeurope" and facts["db"].copies == []
    assert facts["kv"].role == "key" and facts["kv"].location.code == "eastus"


def test_mixed_repository_has_findings_only_where_they_belong() -> None:
    from scanner.engine import ScanOptions, scan

    repo = FIXTURES.parent.parent
    mixed = FIXTURES.parent / "mixed"
    bundled = load_policy(FIXTURES.parent / "residency.yaml")
    report = scan(ScanOptions(paths=[mixed], cwd=repo, use_cache=False), bundled)
    where = sorted({(f.file, f.rule_id) for f in report.findings})
    assert where == [("fixtures/mixed/infra/main.tf", "RES001"), ("fixtures/mixed/k8s/app.yaml", "RES005")]
    helm_notes = sorted({n.file for n in report.notes if n.message == HELM_NOTE})
    assert helm_notes == ["fixtures/mixed/charts/web/templates/deployment.yaml"]
    # The kustomize patch is judged as the Deployment it patches (base + patch, the base's namespace and
    # labels), at the patch; the CRD with `=` keys loads too.
    files = [(p.relative_to(mixed).as_posix(), p.read_bytes()) for p in sorted(mixed.rglob("*.y*ml"))]
    loaded = load_kubernetes(files, chart_files=["charts/web/Chart.yaml"])
    assert loaded.problems == []
    addresses = {r.address for r in loaded.resources}
    patched = [r for r in loaded.resources if r.file == "k8s/overlays/prod/region-patch.yaml"]
    assert [(r.address, r.attributes["spec"]["template"]["spec"]["nodeSelector"]) for r in patched] == [
        ("Deployment/mixed/web", {"topology.kubernetes.io/region": "eu-central-1"})]
    assert {"Deployment/mixed/web",
            "CustomResourceDefinition.apiextensions.k8s.io/alertmanagerconfigs.monitoring.coreos.com",
            "PrometheusRule.monitoring.coreos.com/monitoring/mixed-alerts"} <= addresses
    assert not any(r.file.startswith((".github", ".gitlab", ".pre-commit", "monitoring/", "charts/")) for r in
                   loaded.resources)


def test_stdin_with_cluster_region(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    rendered = (
        "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata:\n  name: shop-web\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: x}]\n"
    )
    (tmp_path / "residency.yaml").write_text("version: 1\nallowed_regions: [in:eu-locations]\n")
    repo = FIXTURES.parent.parent

    def run(*extra: str) -> tuple[int, list[dict]]:
        args = [sys.executable, "-m", "scanner.cli", "scan", "-", "--policy", "residency.yaml", "--format", "json"]
        done = subprocess.run(
            [*args, "--no-cache", *extra], input=rendered.encode(), cwd=tmp_path, capture_output=True,
            env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"}, check=False,
        )
        return done.returncode, json.loads(done.stdout)["findings"]

    assert run() == (0, [])
    code, (finding,) = run("--cluster-region", "us-east-1")
    assert code == 1 and finding["rule_id"] == "RES005" and finding["line"] == 3
    assert finding["resource"] == "Deployment/shop-web" and "--cluster-region" in finding["message"]
    assert run("--cluster-region", "eu-west-1") == (0, [])


def test_ack_object_without_namespace_uses_the_default_namespace_annotation() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"
        "  annotations: {services.k8s.aws/default-region: eu-north-1}\n---\n"
        "apiVersion: s3.services.k8s.aws/v1alpha1\nkind: Bucket\nmetadata: {name: b}\nspec: {name: b}\n"
    )
    _, bucket = load(text).resources
    assert bucket.address == "Bucket.s3.services.k8s.aws/b"
    assert bucket.provider.region == "eu-north-1" and "Namespace default" in bucket.provider.source


def test_cluster_region_applies_to_files_the_policy_does_not_map(tmp_path: Path) -> None:
    # issue 16 step 5: with paths, --cluster-region was dropped without a word
    import json
    import subprocess
    import sys

    (tmp_path / "app").mkdir()
    (tmp_path / "us").mkdir()
    deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\nspec:\n  template:\n    spec:\n" \
             "      containers: [{{name: web, image: x}}]\n"
    (tmp_path / "app" / "web.yaml").write_text(deploy.format("web"))
    (tmp_path / "us" / "api.yaml").write_text(deploy.format("api"))
    (tmp_path / "residency.yaml").write_text(
        "version: 1\nallowed_regions: [in:eu-locations]\n"
        "kubernetes:\n  clusters:\n    - {paths: ['us/**'], region: us-east-1, cloud: aws}\n")
    repo = FIXTURES.parent.parent

    def run(*extra: str) -> set[str]:
        args = [sys.executable, "-m", "scanner.cli", "scan", ".", "--policy", "residency.yaml", "--format", "json"]
        done = subprocess.run([*args, "--no-cache", *extra], cwd=tmp_path, capture_output=True,
                              env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"}, check=False)
        return {f["resource"] for f in json.loads(done.stdout)["findings"] if f["category"] == "placement"}

    assert run() == {"Deployment/api"}
    assert run("--cluster-region", "us-west-2") == {"Deployment/api", "Deployment/web"}
    assert run("--cluster-region", "eu-west-1") == {"Deployment/api"}  # the mapped US path keeps its cluster


@pytest.mark.parametrize(("driver", "always"), [
    ("disk.csi.azure.com", True),  # Azure managed disks: SSE always on
    ("pd.csi.storage.gke.io", True),  # Compute Engine encrypts every disk at rest
    ("ebs.csi.aws.com", False),  # EBS: the account's default decides, so the disk itself must be seen
])
def test_pre_provisioned_volume_is_at_least_provider_managed_only_where_the_cloud_always_encrypts(driver, always):
    """A PersistentVolume with no StorageClass: its disk decides; for a family that is always encrypted at rest
    (kubernetes_storage.yaml `always`) the level is known from below, else unknown (a false RES003 before on
    azuredisk-csi-driver's deploy/example/pv-azuredisk-csi.yaml)."""
    (fact,) = facts_of(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
        f"spec:\n  capacity: {{storage: 1Gi}}\n  csi: {{driver: {driver}, volumeHandle: disk-1}}\n")
    enc = fact.encryption
    assert isinstance(enc, Unknown)  # a customer key is never proven by the PersistentVolume
    assert isinstance(enc, AtLeast) is always
    if always:
        assert enc.meets(Encryption.PROVIDER) and not enc.meets(Encryption.CUSTOMER)
