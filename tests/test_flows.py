"""Destination readers (checks/flows.py) on files parsed by the real loaders."""

from __future__ import annotations

from pathlib import Path

from checks.flows import read_flows
from scanner.loaders.kubernetes import load_kubernetes
from scanner.loaders.terraform import TerraformOptions, load_terraform
from scanner.model import Ref, Unknown
from scanner.regions.endpoints import endpoint_table


def _tf(tmp_path: Path, text: str) -> dict:
    (tmp_path / "main.tf").write_text(text)
    res = load_terraform([tmp_path], tmp_path, TerraformOptions()).resources
    return {r.address: read_flows(r) for r in res}


def _k8s(text: str) -> dict:
    res = load_kubernetes([("k8s.yaml", text.encode())]).resources
    return {r.address: read_flows(r) for r in res}


FIREHOSE = """
provider "aws" { region = "eu-central-1" }
resource "aws_kinesis_stream" "logs" { name = "logs" }
resource "aws_kinesis_firehose_delivery_stream" "datadog" {
  name        = "to-datadog"
  destination = "http_endpoint"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.logs.arn
    role_arn           = "arn:aws:iam::111122223333:role/firehose"
  }
  http_endpoint_configuration {
    url        = "https://aws-kinesis-http-intake.logs.${var.site}/v1/input"
    name       = "Datadog"
    access_key = "secret"
    s3_configuration {
      role_arn   = "arn:aws:iam::111122223333:role/firehose"
      bucket_arn = "arn:aws:s3:::backup"
    }
  }
}
variable "site" { default = "datadoghq.com" }
resource "aws_kinesis_firehose_delivery_stream" "splunk" {
  name        = "to-splunk"
  destination = "splunk"
  splunk_configuration {
    hec_endpoint = "https://http-inputs-acme.splunkcloud.com:443"
    hec_token    = "t"
  }
}
"""


def test_firehose_http_endpoint_and_splunk_hec(tmp_path):
    flows = _tf(tmp_path, FIREHOSE)
    dd = flows["aws_kinesis_firehose_delivery_stream.datadog"]
    assert dd.role == "flow" and dd.cloud == "aws"
    assert isinstance(dd.source, Ref) and dd.source.address == "aws_kinesis_stream.logs"
    (flow,) = dd.flows
    assert (flow.kind, flow.via) == ("url", "http_endpoint_configuration[0].url")
    assert endpoint_table().locate(flow.destination).entry == "datadog-us1"
    (hec,) = flows["aws_kinesis_firehose_delivery_stream.splunk"].flows
    assert endpoint_table().locate(hec.destination).entry == "splunk-cloud-hec"
    assert flows["aws_kinesis_stream.logs"] is None


def test_unresolved_destination_stays_unknown(tmp_path):
    flows = _tf(
        tmp_path,
        """
variable "url" {}
resource "google_pubsub_subscription" "push" {
  name  = "s"
  topic = "t"
  push_config { push_endpoint = var.url }
}
resource "aws_sns_topic_subscription" "hook" {
  topic_arn = "arn:aws:sns:eu-west-1:111122223333:t"
  protocol  = "https"
  endpoint  = "https://hooks.example.org/in"
}
resource "aws_sns_topic_subscription" "mail" {
  topic_arn = "arn:aws:sns:eu-west-1:111122223333:t"
  protocol  = "email"
  endpoint  = "a@example.org"
}
""",
    )
    (push,) = flows["google_pubsub_subscription.push"].flows
    assert push.kind == "unknown" and isinstance(push.destination, Unknown)
    (hook,) = flows["aws_sns_topic_subscription.hook"].flows
    assert (hook.kind, hook.destination) == ("url", "https://hooks.example.org/in")
    assert flows["aws_sns_topic_subscription.mail"] is None


OTEL = """
apiVersion: v1
kind: ConfigMap
metadata: {name: otel-collector, namespace: observability}
data:
  relay: |
    receivers:
      otlp: {protocols: {grpc: {endpoint: "0.0.0.0:4317"}}}
    exporters:
      otlphttp/newrelic:
        endpoint: https://otlp.nr-data.net
      datadog:
        api:
          site: datadoghq.com
          key: ${env:DD_API_KEY}
      debug: {}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [otlphttp/newrelic, datadog]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fluent-bit}
data:
  fluent-bit.conf: |
    [INPUT]
        Name tail
    [OUTPUT]
        Name  es
        Host  logs.europe-west3.gcp.cloud.es.io
        Port  9243
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1
          env:
            - {name: DD_SITE, value: datadoghq.eu}
            - {name: SENTRY_DSN, value: "https://k@o1.ingest.us.sentry.io/2"}
            - {name: NEW_RELIC_REGION, value: EU}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              valueFrom: {secretKeyRef: {name: otel, key: url}}
---
apiVersion: datadoghq.com/v2alpha1
kind: DatadogAgent
metadata: {name: datadog}
spec:
  global: {site: us5.datadoghq.com}
"""


def test_kubernetes_agent_configs():
    flows = _k8s(OTEL)
    located = {}
    for facts in flows.values():
        if facts is None:
            continue
        for flow in facts.flows:
            loc = endpoint_table().locate(flow.destination) if flow.kind != "unknown" else None
            located[(facts.resource.attributes["kind"], flow.via)] = loc.location if loc else flow.destination
    assert located[("ConfigMap", "data.relay: exporters.otlphttp/newrelic.endpoint")] == "country:US"
    assert located[("ConfigMap", "data.relay: exporters.datadog.api.site")] == "country:US"
    assert located[("ConfigMap", "data.fluent-bit.conf: [OUTPUT] es Host")] == "gcp:europe-west3"
    assert located[("Deployment", "containers[api].env.DD_SITE")] == "country:DE"
    assert located[("Deployment", "containers[api].env.SENTRY_DSN")] == "country:US"
    assert located[("Deployment", "containers[api].env.NEW_RELIC_REGION")] == "country:DE"
    assert isinstance(located[("Deployment", "containers[api].env.OTEL_EXPORTER_OTLP_ENDPOINT")], Unknown)
    assert located[("DatadogAgent", "spec.global.site")] == "country:US"
    assert not any(("debug" in via) for _, via in located)


def test_fluentd_match_host():
    flows = _k8s(
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: fluentd}
data:
  fluent.conf: |
    <match app.**>
      @type forward
      <server>
        host collector.eu0.signalfx.com
      </server>
    </match>
"""
    )
    (facts,) = [f for f in flows.values() if f is not None]
    (flow,) = facts.flows
    assert endpoint_table().locate(flow.destination).location == "aws:eu-west-1"


def test_replication_pipes_name_their_target_and_source(tmp_path):
    flows = _tf(
        tmp_path,
        """
resource "aws_dms_replication_task" "t" {
  replication_task_id      = "t"
  migration_type           = "full-load"
  source_endpoint_arn      = "arn:aws:dms:eu-west-1:111122223333:endpoint:SRC"
  target_endpoint_arn      = "arn:aws:dms:us-east-1:111122223333:endpoint:DST"
  replication_instance_arn = "arn:aws:dms:eu-west-1:111122223333:rep:R"
  table_mappings           = "{}"
}
resource "aws_datasync_task" "d" {
  source_location_arn      = "arn:aws:datasync:eu-west-1:111122223333:location/loc-1"
  destination_location_arn = "arn:aws:datasync:us-west-2:111122223333:location/loc-2"
}
""",
    )
    (dms,) = flows["aws_dms_replication_task.t"].flows
    assert (dms.kind, dms.destination) == ("arn", "arn:aws:dms:us-east-1:111122223333:endpoint:DST")
    assert flows["aws_dms_replication_task.t"].source == "arn:aws:dms:eu-west-1:111122223333:endpoint:SRC"
    (ds,) = flows["aws_datasync_task.d"].flows
    assert ds.via == "destination_location_arn"


def test_pubsub_bigquery_and_storage_subscriptions(tmp_path):
    flows = _tf(
        tmp_path,
        """
resource "google_storage_bucket" "b" {
  name     = "b"
  location = "US"
}
resource "google_pubsub_subscription" "gcs" {
  name  = "s"
  topic = "t"
  cloud_storage_config { bucket = google_storage_bucket.b.name }
}
resource "google_pubsub_subscription" "bq" {
  name  = "q"
  topic = "t"
  bigquery_config { table = "proj.dataset.table" }
}
""",
    )
    (gcs,) = flows["google_pubsub_subscription.gcs"].flows
    # The evaluator knows the referenced bucket's name; the rule joins it to the bucket by name.
    assert (gcs.kind, gcs.destination, gcs.targets) == ("name", "b", (("google_storage_bucket", "name"),))
    (bq,) = flows["google_pubsub_subscription.bq"].flows
    assert (bq.kind, bq.destination, bq.targets) == ("name", "dataset", (("google_bigquery_dataset", "dataset_id"),))


def test_flows_carry_the_line_of_their_argument(tmp_path):
    from checks.flows import FLOW_TYPES

    (tmp_path / "main.tf").write_text(FIREHOSE + """
resource "google_pubsub_subscription" "push" {
  name  = "s"
  topic = "t"
  push_config {
    oidc_token { service_account_email = "a@b.iam.gserviceaccount.com" }
    push_endpoint = "https://x-ew.a.run.app/push"
  }
}
""")
    lines = (tmp_path / "main.tf").read_text().splitlines()
    res = load_terraform([tmp_path], tmp_path, TerraformOptions(attribute_lines=FLOW_TYPES)).resources
    flows = {r.address: read_flows(r) for r in res}
    for address, needle in (("aws_kinesis_firehose_delivery_stream.datadog", "url "),
                            ("aws_kinesis_firehose_delivery_stream.splunk", "hec_endpoint"),
                            ("google_pubsub_subscription.push", "push_endpoint")):
        (flow,) = flows[address].flows
        assert needle in lines[flow.line - 1], (address, flow.line)
    # without the option the loader records no lines: the finding falls back to the resource line
    plain = {r.address: read_flows(r) for r in load_terraform([tmp_path], tmp_path, TerraformOptions()).resources}
    assert plain["google_pubsub_subscription.push"].flows[0].line is None
    k8s = {(f.resource.attributes["kind"], fl.via): fl.line for f in _k8s(OTEL).values() if f for fl in f.flows}
    text = OTEL.splitlines()
    assert text[k8s[("ConfigMap", "data.relay: exporters.datadog.api.site")] - 1].strip() == "relay: |"
    assert "DD_SITE" in text[k8s[("Deployment", "containers[api].env.DD_SITE")] - 1]


def test_kubernetes_in_cluster_env_substituted_and_agent_default_site():
    flows = _k8s(
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: otel}
data:
  relay: |
    exporters:
      otlp: {endpoint: "example-opentelemetry-collector:4317"}
      otlp/svc: {endpoint: "http://collector.obs.svc:4317"}
      otlphttp: {endpoint: "${env:OTLP_URL}"}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: datadog}
spec:
  template:
    spec:
      containers:
        - {name: agent, image: "gcr.io/datadoghq/agent:7", envFrom: [{configMapRef: {name: dd}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cluster-agent}
spec:
  template:
    spec:
      containers:
        - {name: cluster-agent, image: "public.ecr.aws/datadog/cluster-agent:7.81.1"}
        - {name: sidecar, image: "registry.example.com/datadog-exporter/agent-sidecar:1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
        - {name: app, image: "example/agent:1", env: [{name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://localhost:4318"}]}
"""
    )
    by_name = {f.resource.attributes["metadata"]["name"]: f for f in flows.values() if f is not None}
    (otel,) = by_name["otel"].flows  # the two in-cluster Services are not destinations
    assert isinstance(otel.destination, Unknown) and "environment" in otel.destination.reason
    (dd,) = by_name["datadog"].flows
    assert isinstance(dd.destination, Unknown) and "envFrom" in dd.destination.reason
    (cluster_agent,) = by_name["cluster-agent"].flows
    assert cluster_agent.destination == "datadoghq.com" and "default site" in cluster_agent.via
    assert "app" not in by_name  # localhost, and example/agent is no Datadog image


def test_dms_reads_target_endpoints_only(tmp_path):
    flows = _tf(
        tmp_path,
        """
resource "aws_dms_endpoint" "src" {
  endpoint_id   = "s"
  endpoint_type = "source"
  engine_name   = "postgres"
  server_name   = "db.abc.us-east-1.rds.amazonaws.com"
}
resource "aws_dms_endpoint" "dst" {
  endpoint_id         = "d"
  endpoint_type       = "target"
  engine_name         = "aurora-postgresql"
  secrets_manager_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"
}
""",
    )
    assert flows["aws_dms_endpoint.src"] is None
    (dst,) = flows["aws_dms_endpoint.dst"].flows
    assert isinstance(dst.destination, Unknown) and "secrets_manager_arn" in dst.destination.reason


FLUENT_BIT_OUTPUTS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: fluent-bit}
data:
  fluent-bit.yaml: |
    pipeline:
      outputs:
        - {name: cloudwatch_logs, match: '*', region: us-east-1, log_group_name: g}
        - {Name: datadog, Match: '*'}
        - {name: opensearch, host: search-acme.eu-west-3.es.amazonaws.com}
        - {name: forward, host: fluentd.logging.svc}
  outputs.conf: |
    [OUTPUT]
        Name    s3
        bucket  archive
    [OUTPUT]
        Name    kinesis_firehose
        region  ${AWS_REGION}
    [OUTPUT]
        Name    cloudwatch_logs
        log_group_name g
    [OUTPUT]
        Name    cloudwatch_logs
        region  eu-west-1
        endpoint https://logs.eu-central-1.amazonaws.com
"""


def test_fluent_bit_yaml_and_aws_outputs_by_region():
    (facts,) = [f for f in _k8s(FLUENT_BIT_OUTPUTS).values() if f is not None]
    got = {f.via: f.destination for f in facts.flows}
    table = endpoint_table()
    yaml_key = "data.fluent-bit.yaml: pipeline.outputs"
    assert table.locate(got[f"{yaml_key}[0] cloudwatch_logs region"]).location == "aws:us-east-1"
    # no Host: the datadog output's default intake, Datadog US1
    assert got[f"{yaml_key}[1] datadog Host (the output's default)"] == "http-intake.logs.datadoghq.com"
    assert table.locate(got[f"{yaml_key}[2] opensearch Host"]).location == "aws:eu-west-3"
    assert not any("forward" in via for via in got)  # a Service of the cluster is no destination
    # the s3 output's region defaults to us-east-1; the endpoint, when written, is what is called
    assert table.locate(got["data.outputs.conf: [OUTPUT] s3 region"]).location == "aws:us-east-1"
    assert table.locate(got["data.outputs.conf: [OUTPUT] cloudwatch_logs endpoint"]).location == "aws:eu-central-1"
    # a region from the environment, or none for an output that requires one, cannot be told
    assert isinstance(got["data.outputs.conf: [OUTPUT] kinesis_firehose region"], Unknown)
    unknown = [f for f in facts.flows if f.via == "data.outputs.conf: [OUTPUT] cloudwatch_logs region"]
    assert len(unknown) == 1 and isinstance(unknown[0].destination, Unknown)


VECTOR_AND_OTEL_AWS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: vector}
data:
  vector.yaml: |
    sinks:
      prom: {type: prometheus_exporter, inputs: [m], address: 0.0.0.0:9090}
      dd: {type: datadog_metrics, inputs: [m], default_api_key: k}
      dd_proxy: {type: datadog_logs, inputs: [l], endpoint: "https://http-intake.logs.datadoghq.eu"}
      cw: {type: aws_cloudwatch_logs, inputs: [l], group_name: g, region: $AWS_REGION}
      fh: {type: aws_kinesis_firehose, inputs: [l], stream_name: s}
      nr: {type: new_relic, inputs: [l], account_id: "1", license_key: k, api: logs, region: eu}
      es: {type: elasticsearch, inputs: [l], endpoints: ["https://logs.eu-west-1.aws.found.io:9243"]}
      agg: {type: vector, inputs: [l], address: "vector.aggregator.eu-central-1.amazonaws.com:6000"}
  vector.toml: |
    [sinks.loki]
    type = "loki"
    inputs = ["l"]
    endpoint = "https://logs-prod-eu-west-0.grafana.net"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: otel}
data:
  relay: |
    exporters:
      awss3: {s3uploader: {s3_bucket: b}}
      awsxray/eu: {region: eu-west-1}
      awscloudwatchlogs: {log_group_name: g}
      awskinesis: {aws: {stream_name: s, region: ap-southeast-2}}
      awsemf: {region: us-east-1, endpoint: "https://logs.eu-west-3.amazonaws.com"}
"""


def test_vector_sinks_and_otel_aws_exporters():
    flows = {f.resource.attributes["metadata"]["name"]: f for f in _k8s(VECTOR_AND_OTEL_AWS).values() if f}
    table = endpoint_table()

    def where(name: str) -> dict:
        return {f.via: (table.locate(f.destination).location if isinstance(f.destination, str) else f.destination)
                for f in flows[name].flows}

    vector = where("vector")
    key = "data.vector.yaml: sinks"
    assert not any("prom" in via for via in vector)  # a listening address is no destination
    assert vector[f"{key}.dd.site"] == "country:US"  # the datadog sinks' default site
    assert vector[f"{key}.dd_proxy.endpoint"] == "country:DE"
    assert isinstance(vector[f"{key}.cw.region"], Unknown)  # $AWS_REGION: from the environment
    assert isinstance(vector[f"{key}.fh.region"], Unknown)  # no region written
    assert vector[f"{key}.nr.region"] == "country:DE"
    assert vector[f"{key}.es.endpoints[0]"] == "aws:eu-west-1"
    assert vector[f"{key}.agg.address"] == "aws:eu-central-1"
    assert "data.vector.toml: sinks.loki.endpoint" in vector  # TOML read; the host itself is not in the table

    otel = where("otel")
    key = "data.relay: exporters"
    assert otel[f"{key}.awss3.s3uploader.region"] == "aws:us-east-1"  # the exporter's default region
    assert otel[f"{key}.awsxray/eu.region"] == "aws:eu-west-1"
    assert isinstance(otel[f"{key}.awscloudwatchlogs.region"], Unknown)
    assert otel[f"{key}.awskinesis.aws.region"] == "aws:ap-southeast-2"
    # an endpoint written wins over the region: only the endpoint is a destination
    assert otel[f"{key}.awsemf.endpoint"] == "aws:eu-west-3" and f"{key}.awsemf.region" not in otel


NEW_RELIC_AND_LAMBDA = """
provider "aws" { region = "eu-west-1" }
provider "newrelic" {
  account_id = 1
  region     = "EU"
}
provider "newrelic" {
  alias      = "jp"
  account_id = 2
  region     = "JP"
}
resource "newrelic_cloud_aws_link_account" "l" {
  arn  = "arn:aws:iam::123456789012:role/nr"
  name = "l"
}
resource "newrelic_cloud_aws_integrations" "eu" {
  linked_account_id = newrelic_cloud_aws_link_account.l.id
  s3 {}
}
resource "newrelic_cloud_gcp_integrations" "jp" {
  provider          = newrelic.jp
  linked_account_id = 3
}
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "arn:aws:iam::123456789012:role/f"
  environment {
    variables = {
      DD_SITE                     = "us5.datadoghq.com"
      DD_API_KEY                  = "k"
      OTEL_EXPORTER_OTLP_ENDPOINT = "https://otlp.eu01.nr-data.net"
    }
  }
}
resource "aws_lambda_function" "quiet" {
  function_name = "quiet"
  role          = "arn:aws:iam::123456789012:role/f"
  environment {
    variables = { LOG_LEVEL = "debug" }
  }
}
"""


def test_new_relic_integrations_by_provider_region_and_lambda_env(tmp_path):
    flows = _tf(tmp_path, NEW_RELIC_AND_LAMBDA)
    table = endpoint_table()
    assert flows["newrelic_cloud_aws_link_account.l"] is None  # linking an account moves no data
    (eu,) = flows["newrelic_cloud_aws_integrations.eu"].flows
    assert table.locate(eu.destination).location == "country:DE" and "provider newrelic region" in eu.via
    (jp,) = flows["newrelic_cloud_gcp_integrations.jp"].flows  # New Relic's Japan region
    assert table.locate(jp.destination).location == "country:JP"
    fn = {f.via: table.locate(f.destination).location for f in flows["aws_lambda_function.f"].flows}
    # DD_SITE is written, so no default-site flow is added for the API key
    assert fn == {"environment.variables.DD_SITE": "country:US",
                  "environment.variables.OTEL_EXPORTER_OTLP_ENDPOINT": "country:DE"}
    assert flows["aws_lambda_function.quiet"] is None


def test_new_relic_integration_without_region_is_the_default_us(tmp_path):
    flows = _tf(tmp_path, 'provider "newrelic" { account_id = 1 }\n'
                          'resource "newrelic_cloud_azure_integrations" "a" { linked_account_id = 1 }\n')
    (flow,) = flows["newrelic_cloud_azure_integrations.a"].flows
    assert endpoint_table().locate(flow.destination).location == "country:US"
    assert "default US" in flow.via


def test_eventgrid_subscription_endpoints_by_resource_id(tmp_path):
    flows = _tf(tmp_path, """
resource "azurerm_eventhub" "h" {
  name         = "h"
  namespace_id = "/subscriptions/0/providers/Microsoft.EventHub/namespaces/ns"
}
resource "azurerm_eventgrid_event_subscription" "s" {
  name                          = "s"
  scope                         = "/subscriptions/0/resourceGroups/rg"
  service_bus_queue_endpoint_id = "/subscriptions/0/providers/Microsoft.ServiceBus/namespaces/sb-us/queues/q"
  eventhub_endpoint_id          = azurerm_eventhub.h.id
  storage_queue_endpoint {
    storage_account_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    queue_name         = "q"
  }
}
resource "azurerm_eventgrid_event_subscription" "relay" {
  name                          = "relay"
  scope                         = "/subscriptions/0/resourceGroups/rg"
  hybrid_connection_endpoint_id = "/subscriptions/0/providers/Microsoft.Relay/namespaces/r/hybridConnections/h"
  service_bus_topic_endpoint_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Web/sites/x"
}
""")
    got = {f.via: f for f in flows["azurerm_eventgrid_event_subscription.s"].flows}
    sb = got["service_bus_queue_endpoint_id"]
    assert (sb.destination, sb.kind, sb.targets) == ("sb-us", "name", (("azurerm_servicebus_namespace", "name"),))
    assert isinstance(got["eventhub_endpoint_id"].destination, Ref)  # located by the referenced store
    queue = got["storage_queue_endpoint.storage_account_id"]
    assert (queue.destination, queue.targets) == ("acct", (("azurerm_storage_account", "name"),))
    (other,) = flows["azurerm_eventgrid_event_subscription.relay"].flows  # hybrid connections are not read
    assert other.kind == "id"  # an id naming no namespace or account: unresolved when judged


DATADOG_INTEGRATIONS = """
provider "datadog" {
  api_url = "https://api.datadoghq.eu/"
}
provider "datadog" {
  alias   = "us5"
  api_url = "https://api.us5.datadoghq.com/"
}
provider "datadog" {
  alias   = "env"
  api_url = var.datadog_api_url
}
variable "datadog_api_url" { type = string }
resource "datadog_integration_gcp_sts" "eu" {
  client_email = "dd@p.iam.gserviceaccount.com"
}
resource "datadog_integration_azure" "us5" {
  provider  = datadog.us5
  tenant_name = "t"
  client_id = "c"
}
resource "datadog_integration_aws_account" "env" {
  provider       = datadog.env
  aws_account_id = "123456789012"
}
resource "datadog_monitor" "m" {
  name = "m"
}
"""


def test_datadog_integrations_by_provider_api_url(tmp_path):
    flows = _tf(tmp_path, DATADOG_INTEGRATIONS)
    table = endpoint_table()
    (eu,) = flows["datadog_integration_gcp_sts.eu"].flows
    assert table.locate(eu.destination).location == "country:DE" and "provider datadog api_url" in eu.via
    (us5,) = flows["datadog_integration_azure.us5"].flows
    assert table.locate(us5.destination).location == "country:US" and "datadog.us5" in us5.via
    (env,) = flows["datadog_integration_aws_account.env"].flows  # a variable with no value: unresolved
    assert isinstance(env.destination, Unknown)
    assert flows["datadog_monitor.m"] is None  # configuring Datadog itself moves no cloud data


def test_datadog_integration_without_api_url_is_us1(tmp_path):
    flows = _tf(tmp_path, 'provider "datadog" { api_key = "k" }\n'
                          'resource "datadog_integration_aws" "a" { account_id = "123456789012" }\n')
    (flow,) = flows["datadog_integration_aws.a"].flows
    assert endpoint_table().locate(flow.destination).location == "country:US"
    assert "default US1" in flow.via


def test_datadog_integration_api_url_from_a_plan(tmp_path):
    import json

    from scanner.loaders.tfplan import load_plan_bytes

    dd = "registry.terraform.io/datadog/datadog"
    res = {"address": "datadog_integration_gcp_sts.g", "mode": "managed", "type": "datadog_integration_gcp_sts",
           "name": "g", "provider_name": dd, "values": {"client_email": "dd@p.iam.gserviceaccount.com"}}
    plan = {
        "format_version": "1.2", "terraform_version": "1.9.5", "variables": {"site": {"value": "datadoghq.eu"}},
        "planned_values": {"root_module": {"resources": [res]}},
        "resource_changes": [{**{k: res[k] for k in ("address", "mode", "type", "name", "provider_name")},
                              "change": {"actions": ["create"], "before": None, "after": res["values"],
                                         "after_unknown": {}}}],
        "configuration": {
            "provider_config": {"datadog": {"name": "datadog", "full_name": dd, "expressions": {
                "api_url": {"constant_value": "https://api.datadoghq.eu/"}}}},
            "root_module": {"resources": [{"address": "datadog_integration_gcp_sts.g", "mode": "managed",
                                           "type": "datadog_integration_gcp_sts", "name": "g",
                                           "provider_config_key": "datadog", "expressions": {},
                                           "schema_version": 0}]},
        },
        "errored": False,
    }
    (r,) = load_plan_bytes(json.dumps(plan).encode(), "plan.json", tmp_path).resources
    assert r.provider is not None and r.provider.settings == {"api_url": "https://api.datadoghq.eu/"}
    (flow,) = read_flows(r).flows
    assert endpoint_table().locate(flow.destination).location == "country:DE"


def test_plan_reads_the_newrelic_region_and_datadog_api_url():
    """A plan's provider "newrelic" { region = "EU" } is the EU data center, not the default US (parity with HCL)."""
    from scanner.loaders.tfplan import load_plan_bytes

    root = Path(__file__).resolve().parents[1]
    path = root / "fixtures" / "plan" / "movement-saas-providers" / "plan.json"
    res = load_plan_bytes(path.read_bytes(), "plan.json", root).resources
    table = endpoint_table()
    got = {}
    for r in res:
        facts = read_flows(r)
        if facts is not None:
            (flow,) = facts.flows
            got[r.address] = (table.locate(flow.destination).location, flow.via)
    assert got["newrelic_cloud_aws_integrations.eu"][0] == "country:DE"
    assert "provider newrelic region" in got["newrelic_cloud_aws_integrations.eu"][1]
    assert got["newrelic_cloud_gcp_integrations.us"][0] == "country:US"
    assert "not set" not in got["newrelic_cloud_gcp_integrations.us"][1]
    assert got["datadog_integration_aws_account.eu"][0] == "country:DE"  # api_url = var.datadog_api_url
    assert got["datadog_integration_gcp_sts.us1"][0] == "country:US"
    assert "newrelic_cloud_aws_link_account.acme" not in got


def test_new_relic_region_the_scanner_does_not_know_is_unresolved(tmp_path):
    flows = _tf(tmp_path, 'provider "newrelic" { region = "AP" }\n'
                          'resource "newrelic_cloud_aws_integrations" "a" { linked_account_id = 1 }\n')
    (flow,) = flows["newrelic_cloud_aws_integrations.a"].flows
    assert isinstance(flow.destination, Unknown) and "'AP'" in flow.destination.reason


CDN = """
resource "azurerm_cdn_endpoint" "e" {
  name = "e"
  origin {
    name      = "o"
    host_name = "o.example"
  }
}
resource "azurerm_cdn_frontdoor_route" "cached" {
  name = "c"
  cache {
    query_string_caching_behavior = "IgnoreQueryString"
  }
}
resource "azurerm_cdn_frontdoor_route" "uncached" { name = "u" }
resource "google_compute_backend_bucket" "on" {
  name        = "on"
  bucket_name = "b"
  enable_cdn  = true
}
resource "google_compute_backend_bucket" "var" {
  name        = "var"
  bucket_name = "b"
  enable_cdn  = var.cdn
}
variable "cdn" { type = bool }
resource "google_compute_backend_service" "off" { name = "off" }
resource "google_network_services_edge_cache_service" "media" { name = "m" }
"""


def test_cdn_edge_caches_by_network(tmp_path):
    flows = _tf(tmp_path, CDN)
    got = {a: [(f.destination, f.kind, f.via) for f in facts.flows] for a, facts in flows.items() if facts}
    assert got.pop("azurerm_cdn_endpoint.e") == [("azure-cdn", "edge", "origin")]
    assert got.pop("azurerm_cdn_frontdoor_route.cached") == [("azure-front-door", "edge", "cache")]
    assert got.pop("google_compute_backend_bucket.on") == [("google-cloud-cdn", "edge", "enable_cdn")]
    assert got.pop("google_network_services_edge_cache_service.media") == [("google-media-cdn", "edge", "routing")]
    ((unknown, kind, _),) = got.pop("google_compute_backend_bucket.var")  # not known statically: never a pass
    assert kind == "unknown" and isinstance(unknown, Unknown)
    assert got == {}  # no cache block, enable_cdn unset (default false): nothing cached at the edge


def test_kubernetes_env_expansion_uses_earlier_literals_only():
    """$(VAR) takes an earlier literal of the same container; $$ escapes; a later or unknown variable is Unknown."""
    flows = _k8s("""
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  containers:
    - name: a
      image: app
      env:
        - {name: HOST, value: otlp.eu01.nr-data.net}
        - {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "https://$(HOST):4318"}
        - {name: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, value: "https://$(LATER):4318"}
        - {name: LATER, value: otlp.nr-data.net}
        - {name: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, value: "https://$$(HOST).example:4318"}
    - name: b
      image: app
      env:
        - {name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, value: "https://$(HOST):4318"}
""")
    got = {f.via.split(".env.")[1] if ".env." in f.via else f.via: f.destination for f in flows["Pod/n/p"].flows}
    assert got["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://otlp.eu01.nr-data.net:4318"
    assert isinstance(got["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"], Unknown)  # defined after it: not expanded
    assert got["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] == "https://$(HOST).example:4318"  # escaped
    assert isinstance(got["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], Unknown)  # another container's variable


def test_otel_operator_collector_spec_config():
    flows = _k8s("""
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: c, namespace: n}
spec:
  config:
    exporters:
      otlp: {endpoint: "otlp.nr-data.net:4317"}
      otlp/in: {endpoint: "gw.n.svc:4317"}
---
apiVersion: example.com/v1
kind: OpenTelemetryCollector
metadata: {name: other, namespace: n}
spec:
  config:
    exporters:
      otlp: {endpoint: "otlp.nr-data.net:4317"}
""")
    (flow,) = flows["OpenTelemetryCollector.opentelemetry.io/n/c"].flows  # the in-cluster gateway is dropped
    assert (flow.destination, flow.via) == ("otlp.nr-data.net:4317", "spec.config: exporters.otlp.endpoint")
    assert not any(k.endswith("/n/other") and v for k, v in flows.items())  # another group's kind is not read
