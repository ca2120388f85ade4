"""Destination readers: the pipes a resource ships data through, as policy-free flow facts.

Why a separate reader and not more catalog entries: a pipe is not a data store. A Firehose
stream, an SNS subscription or an OpenTelemetry Collector config holds no data at rest; it moves
data to a destination named by a URL, a host, a site or an ARN. This module only reads where
that destination is written (syntax): it returns each destination as written, with the argument
path and line, and never judges it. Locating the host (the bundled table in
:mod:`scanner.regions.endpoints`, the policy's ``endpoints:``) and deciding whether it is
allowed is the movement rule's job. A destination the evaluator could not compute stays an
:class:`Unknown` or a :class:`Ref` so the rule can report it unresolved (never a pass).

The engine routes each :class:`FlowFacts` (role ``flow``) to the movement rule (RES007). A flow's
``line`` is its argument's when the loader knows it (Terraform ``attribute_lines``, a manifest's
key lines; for a config embedded in a ConfigMap, the data key's line), else the resource's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from checks.values import blocks, get_path
from scanner.model import Ref, Resource, Unknown
from scanner.regions import normalize_cloud
from scanner.regions.endpoints import host_of

__all__ = ["FLOW_TYPES", "Flow", "FlowFacts", "link_flows", "read_flows"]

#: Vendor settings that name a site rather than a host, mapped to the host that site ingests at
#: (New Relic's documented default collector hosts per data center).
#: JP: New Relic's Japan region (choose-your-data-center), by its documented Log API host.
_NEW_RELIC_REGION_HOSTS = {"us": "collector.newrelic.com", "eu": "collector.eu01.nr-data.net",
                           "jp": "log-api.jp.nr-data.net"}
_OTEL_ENV = re.compile(r"^OTEL_EXPORTER_OTLP(?:_(?:TRACES|METRICS|LOGS))?_ENDPOINT$")
_FLUENTD_HOST = re.compile(r"^\s*host\s+(\S+)\s*$", re.MULTILINE)
_FLUENTD_MATCH = re.compile(r"<match\b[^>]*>(.*?)</match>", re.DOTALL)


@dataclass(frozen=True)
class Flow:
    """One destination a pipe sends data to, as written.

    ``kind`` says how to read ``destination``: ``url`` (a URL, DSN or ``host:port``), ``host``
    (a bare host or a Datadog site), ``arn`` (another AWS resource), ``id`` (an Azure/GCP resource
    id), ``name`` (the name of a resource of one of ``targets``: ``(type, attribute)`` pairs, the
    attribute holding that name), or ``unknown`` when the value is an :class:`Unknown`/:class:`Ref`
    the evaluator could not compute. ``located`` is ``(location, where from)`` of a referenced
    resource that is no data store (a Cloud Run service, a DataSync location), set by
    :func:`link_flows`; the referenced store's own location, when there is one, comes first.
    """

    destination: str | Unknown | Ref
    kind: str
    via: str
    what: str
    line: int | None = None
    targets: tuple[tuple[str, str], ...] = ()
    located: tuple[str, str] | None = None


@dataclass
class FlowFacts:
    """The pipes of one resource: its destinations and, when written, the store or workload it reads."""

    resource: Resource
    cloud: str
    flows: list[Flow]
    source: str | Unknown | Ref | None = None
    role: str = "flow"
    holds_user_data: bool = False  # a pipe moves data; the inventory lists stores
    tags: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _flow(value: Any, kind: str, via: str, what: str, line: int | None = None) -> Flow | None:
    if value is None or value == "":
        return None
    if isinstance(value, (Unknown, Ref)):
        return Flow(value, "unknown", via, what, line)
    if not isinstance(value, str):
        return Flow(Unknown(f"{via} is not a string"), "unknown", via, what, line)
    return Flow(value, kind, via, what, line)


def _line(mapping: Any, key: str | None = None) -> int | None:
    key_lines = getattr(mapping, "key_lines", None)
    if key is not None and key_lines and key in key_lines:
        return int(key_lines[key])
    line = getattr(mapping, "line", None)
    return int(line) if line else None


def _argument_line(lines: Mapping[str, int], via: str) -> int | None:
    """The line of ``via`` (``push_config.push_endpoint``, ``http_endpoint_configuration[0].url``)
    in the loader's ``attribute_lines``, else of the nearest enclosing block written; None if neither."""
    parts = via.split(".")
    parts = [p if "[" in p or i == len(parts) - 1 else f"{p}[0]" for i, p in enumerate(parts)]
    while parts:
        line = lines.get(".".join(parts))
        if line:
            return line
        parts.pop()
    return None


# ----------------------------------------------------------------------------- Terraform readers
def _firehose(r: Resource) -> Iterator[Flow]:
    a = r.attributes
    for i, b in enumerate(blocks(a, "http_endpoint_configuration")):
        if f := _flow(b.get("url"), "url", f"http_endpoint_configuration[{i}].url", "HTTP endpoint"):
            yield f
    for i, b in enumerate(blocks(a, "splunk_configuration")):
        if f := _flow(b.get("hec_endpoint"), "url", f"splunk_configuration[{i}].hec_endpoint", "Splunk HEC"):
            yield f
    for block, key, what in (
        ("extended_s3_configuration", "bucket_arn", "S3 bucket"),
        ("opensearch_configuration", "domain_arn", "OpenSearch domain"),
        ("elasticsearch_configuration", "domain_arn", "Elasticsearch domain"),
        ("opensearchserverless_configuration", "collection_endpoint", "OpenSearch Serverless collection"),
    ):
        for i, b in enumerate(blocks(a, block)):
            kind = "url" if key.endswith("endpoint") else "arn"
            if f := _flow(b.get(key), kind, f"{block}[{i}].{key}", what):
                yield f
    for i, b in enumerate(blocks(a, "redshift_configuration")):
        url = b.get("cluster_jdbcurl")
        if isinstance(url, str):
            url = url.removeprefix("jdbc:").removeprefix("redshift:")
        if f := _flow(url, "url", f"redshift_configuration[{i}].cluster_jdbcurl", "Redshift cluster"):
            yield f


def _firehose_source(r: Resource) -> Any:
    return get_path(r.attributes, "kinesis_source_configuration.kinesis_stream_arn")


def _sns_subscription(r: Resource) -> Iterator[Flow]:
    protocol = r.attributes.get("protocol")
    kind = "url" if isinstance(protocol, str) and protocol.lower() in ("http", "https") else "arn"
    if isinstance(protocol, str) and protocol.lower() in ("email", "email-json", "sms", "application"):
        return
    if f := _flow(r.attributes.get("endpoint"), kind, "endpoint", f"SNS {protocol} subscription"):
        yield f


def _name_of(value: Any) -> str | None:
    """A name as written, or the text of a name known in part (``acme-${random_id.x.hex}``)."""
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)  # hcl_eval.Partial: the same parts spell the same name
    return text if isinstance(text, str) else None


def _named(value: Any, targets: tuple[tuple[str, str], ...], via: str, what: str) -> Flow | None:
    name = _name_of(value)
    if name is None or isinstance(value, Ref):
        return _flow(value, "name", via, what)
    return Flow(name, "name", via, what, targets=targets)


def _bigquery_dataset(table: Any) -> Any:
    """The dataset id of ``project.dataset.table`` / ``project:dataset.table``, else the value as is."""
    text = _name_of(table)
    if text is None or isinstance(table, Ref):
        return table
    parts = text.replace(":", ".").split(".")
    if len(parts) < 2 or "${" in parts[-2]:
        return table
    return parts[-2]


def _pubsub_subscription(r: Resource) -> Iterator[Flow]:
    a = r.attributes
    if f := _flow(get_path(a, "push_config.push_endpoint"), "url", "push_config.push_endpoint",
                  "Pub/Sub push subscription"):
        yield f
    table = get_path(a, "bigquery_config.table")
    if f := _named(_bigquery_dataset(table), (("google_bigquery_dataset", "dataset_id"),), "bigquery_config.table",
                   "Pub/Sub BigQuery subscription"):
        yield f
    if f := _named(get_path(a, "cloud_storage_config.bucket"), (("google_storage_bucket", "name"),),
                   "cloud_storage_config.bucket", "Pub/Sub Cloud Storage subscription"):
        yield f


_PUBSUB_TOPIC = re.compile(r"^pubsub\.googleapis\.com/projects/[^/]+/topics/([^/]+)$")


def _logging_sink(r: Resource) -> Iterator[Flow]:
    """A log sink (project, folder, organization, billing account) routing to a Pub/Sub topic.

    Only Pub/Sub: a sink to Cloud Storage, BigQuery or a log bucket is a copy the catalog already
    gives the sink (RES002), and a destination not computed is an unknown copy there; a topic
    stores nothing the catalog gives the sink, so here the pipe's destination is the topic.
    """
    dest = r.attributes.get("destination")
    text = _name_of(dest)
    m = _PUBSUB_TOPIC.match(text) if text is not None else None
    if m:
        yield Flow(m.group(1), "name", "destination", "logs (Pub/Sub topic)",
                   targets=(("google_pubsub_topic", "name"),))


def _cloudfront(r: Resource) -> Iterator[Flow]:
    """Every distribution caches responses at edge locations its ``price_class`` picks (default
    ``PriceClass_All``, provider docs); where those are is the movement judgement's."""
    price_class = r.attributes.get("price_class", "PriceClass_All")
    if f := _flow(price_class, "edge", "price_class", "cached responses"):
        yield f


def _edge(network: str, via: str) -> Callable[[Resource], Iterator[Flow]]:
    """A CDN that caches responses at every one of its edge locations (the network's key is judged by
    :mod:`checks.movement`): an Azure CDN endpoint, a Media CDN edge cache service."""
    def read(r: Resource) -> Iterator[Flow]:
        yield Flow(network, "edge", via, "cached responses")

    return read


def _frontdoor_route(r: Resource) -> Iterator[Flow]:
    """A Front Door (standard/premium) route caches only with a ``cache`` block: "To disable caching, do
    not provide a cacheConfiguration object" (Azure CDN API, FrontDoorRouteData.CacheConfiguration)."""
    if blocks(r.attributes, "cache"):
        line = (r.extra.get("attribute_lines") or {}).get("cache[0]")  # the block's line, not the resource's
        yield Flow("azure-front-door", "edge", "cache", "cached responses", line)


def _frontdoor_classic(r: Resource) -> Iterator[Flow]:
    """A Front Door (classic) routing rule caches when its forwarding configuration sets
    ``cache_enabled`` (default false, azurerm docs)."""
    for i, rule in enumerate(blocks(r.attributes, "routing_rule")):
        for forwarding in blocks(rule, "forwarding_configuration"):
            enabled = forwarding.get("cache_enabled")
            via = f"routing_rule[{i}].forwarding_configuration[0].cache_enabled"
            if enabled is True:
                yield Flow("azure-front-door", "edge", via, "cached responses")
            elif isinstance(enabled, (Unknown, Ref)):
                yield Flow(enabled, "unknown", via, "cached responses")


def _cloud_cdn(r: Resource) -> Iterator[Flow]:
    """A backend bucket or backend service caches at Google's edge when ``enable_cdn`` is true
    (default false); a value not known statically is unresolved, never a pass."""
    enabled = r.attributes.get("enable_cdn")
    if enabled is True:
        yield Flow("google-cloud-cdn", "edge", "enable_cdn", "cached responses")
    elif isinstance(enabled, (Unknown, Ref)):
        yield Flow(enabled, "unknown", "enable_cdn", "cached responses (Cloud CDN)")


_EVENTHUB_NAMESPACE = re.compile(r"/providers/Microsoft\.EventHub/namespaces/([^/]+)", re.IGNORECASE)


def _diagnostic_setting(r: Resource) -> Iterator[Flow]:
    """An Azure diagnostic setting streaming to an Event Hub: the namespace its rule id names."""
    rule = r.attributes.get("eventhub_authorization_rule_id")
    via, what = "eventhub_authorization_rule_id", "diagnostic setting to Event Hub"
    m = _EVENTHUB_NAMESPACE.search(rule) if isinstance(rule, str) else None
    if m:
        yield Flow(m.group(1), "name", via, what, targets=(("azurerm_eventhub_namespace", "name"),))
    elif f := _flow(rule, "id", via, what):
        yield f


#: An Azure resource id's segment naming the resource that holds what is delivered to it, and the
#: scanned (type, attribute) that name matches: an Event Hub or queue lives in its namespace.
_AZURE_ID_HOLDERS = (
    (_EVENTHUB_NAMESPACE, (("azurerm_eventhub_namespace", "name"),)),
    (re.compile(r"/providers/Microsoft\.ServiceBus/namespaces/([^/]+)", re.IGNORECASE),
     (("azurerm_servicebus_namespace", "name"),)),
    (re.compile(r"/providers/Microsoft\.Storage/storageAccounts/([^/]+)", re.IGNORECASE),
     (("azurerm_storage_account", "name"),)),
)


def _azure_id(value: Any, via: str, what: str) -> Flow | None:
    """A destination given by Azure resource id: a reference is located by its resource; a literal
    id by the namespace or storage account it names, when scanned; any other id is unresolved."""
    text = _name_of(value)
    if text is not None and not isinstance(value, Ref):
        for pattern, targets in _AZURE_ID_HOLDERS:
            m = pattern.search(text)
            if m and "${" not in m.group(1):
                return Flow(m.group(1), "name", via, what, targets=targets)
    return _flow(value, "id", via, what)


def _eventgrid_subscription(r: Resource) -> Iterator[Flow]:
    """An Event Grid subscription's endpoint: a webhook URL, an Event Hub, a Service Bus queue or
    topic, or a storage queue (by its account)."""
    a = r.attributes
    if f := _flow(get_path(a, "webhook_endpoint.url"), "url", "webhook_endpoint.url", "Event Grid webhook"):
        yield f
    for attr, what in (
        ("eventhub_endpoint_id", "Event Grid to Event Hub"),
        ("service_bus_queue_endpoint_id", "Event Grid to Service Bus queue"),
        ("service_bus_topic_endpoint_id", "Event Grid to Service Bus topic"),
        ("storage_queue_endpoint.storage_account_id", "Event Grid to storage queue"),
    ):
        value = get_path(a, attr)
        if value is not None and (f := _azure_id(value, attr, what)):
            yield f


def _dms_endpoint(r: Resource) -> Iterator[Flow]:
    """A DMS target endpoint's server; a source endpoint is where data comes from, not a destination."""
    a = r.attributes
    if a.get("endpoint_type") == "source":
        return
    server = a.get("server_name")
    if server is None and a.get("secrets_manager_arn") is not None:
        server = Unknown("the target server is read from the Secrets Manager secret (secrets_manager_arn)")
    if f := _flow(server, "host", "server_name", "DMS target endpoint server"):
        yield f


def _single(attr: str, kind: str, what: str) -> Callable[[Resource], Iterator[Flow]]:
    def read(r: Resource) -> Iterator[Flow]:
        if f := _flow(get_path(r.attributes, attr), kind, attr, what):
            yield f

    return read


#: Variables that mean a function reports to Datadog; without DD_SITE the Datadog Lambda library and
#: extension send to datadoghq.com (US1; DataDog/datadog-lambda-python README: "The default is datadoghq.com").
_DATADOG_KEY_VARS = ("DD_API_KEY", "DD_API_KEY_SECRET_ARN", "DD_API_KEY_SSM_NAME", "DD_KMS_API_KEY")


def _lambda_env(r: Resource) -> Iterator[Flow]:
    """A Lambda function's telemetry destinations from ``environment.variables`` (DD_SITE, SENTRY_DSN, ...).

    The Datadog Forwarder and the Datadog Lambda extension read ``DD_SITE``; a function given a
    Datadog API key but no site sends to the default site.
    """
    variables = get_path(r.attributes, "environment.variables")
    if not isinstance(variables, dict):
        return
    line = _argument_line(r.extra.get("attribute_lines") or {}, "environment.variables")  # keys have none
    for name, value in variables.items():
        if f := _env_flow(str(name), value, f"environment.variables.{name}", line):
            yield f
    if "DD_SITE" not in variables and "DD_DD_URL" not in variables and any(k in variables for k in _DATADOG_KEY_VARS):
        yield Flow("datadoghq.com", "host", "environment.variables",
                   "Datadog Lambda telemetry (no DD_SITE: the default site)", line)


#: New Relic's cloud integrations pull the cloud account's telemetry into the New Relic account,
#: whose data center is the provider configuration's ``region`` (US, EU; the provider's default US,
#: which the NEW_RELIC_REGION environment variable may change). Linking an account moves no data.
NEW_RELIC_INTEGRATIONS = frozenset({
    "newrelic_cloud_aws_integrations", "newrelic_cloud_aws_govcloud_integrations",
    "newrelic_cloud_gcp_integrations", "newrelic_cloud_azure_integrations",
})


def _provider_setting(r: Resource, name: str, arg: str, value: Any, default: str,
                      default_label: str) -> tuple[Any, str]:
    """A provider argument that decides where the resource's data goes, with its provenance for the
    finding; not set, the provider's documented default (``default_label`` says which)."""
    provider = r.provider
    source = provider.source if provider is not None and provider.source else "no provider block"
    if value is None:
        return default, f"provider {name} {arg} (not set: {default_label}, {source})"
    return value, f"provider {provider.address if provider else name} {arg} ({source})"


def _new_relic_host(region: Any, label: str) -> Any:
    """A New Relic region (``US``, ``EU``, ``JP``; any case) as one of its hosts, which the host table locates;
    a name the scanner does not know is Unknown, anything not a string is passed on."""
    if not isinstance(region, str):
        return region
    return _NEW_RELIC_REGION_HOSTS.get(region.strip().lower()) or Unknown(
        f"{label} {region!r} is not a New Relic region the scanner knows")


def _newrelic_integration(r: Resource) -> Iterator[Flow]:
    region, via = _provider_setting(r, "newrelic", "region", r.provider.region if r.provider else None,
                                    "US", "the provider's default US")
    if f := _flow(_new_relic_host(region, "New Relic region"), "host", via, "New Relic cloud integration data",
                  r.line):
        yield f


#: Datadog's cloud integrations collect the cloud account's metrics (and logs, resources) into the Datadog
#: organisation at the site the datadog provider configuration's ``api_url`` names (``https://api.<site>/``;
#: not set: US1 ``https://api.datadoghq.com/``, which the DATADOG_HOST environment variable may change, per the
#: Datadog Terraform provider docs). The site host is located through the bundled endpoint table.
#: Log collection for an AWS account (``_aws_log_collection``: the services whose logs Datadog collects;
#: ``_aws_lambda_arn``: the log-forwarding Lambda) and the Confluent Cloud account integration (its metrics)
#: ship data to the same site (Datadog API docs: "Enable an AWS Logs integration", "Add Confluent account",
#: one endpoint per site).
DATADOG_INTEGRATIONS = frozenset({
    "datadog_integration_aws", "datadog_integration_aws_account",
    "datadog_integration_aws_log_collection", "datadog_integration_aws_lambda_arn",
    "datadog_integration_gcp", "datadog_integration_gcp_sts", "datadog_integration_azure",
    "datadog_integration_confluent_account",
})


def _datadog_integration(r: Resource) -> Iterator[Flow]:
    url, via = _provider_setting(r, "datadog", "api_url", r.provider.settings.get("api_url") if r.provider else None,
                                 "https://api.datadoghq.com/", "the default US1")
    if f := _flow(url, "url", via, "Datadog cloud integration data", r.line):
        yield f


# A store-to-store copy the catalog reads as a copy (RES002) is not repeated here: aws_msk_replicator
# (one replication, one finding; see its entry in checks/datastores.yaml).
_TERRAFORM: dict[str, tuple[Callable[[Resource], Iterator[Flow]], Callable[[Resource], Any] | None]] = {
    "aws_kinesis_firehose_delivery_stream": (_firehose, _firehose_source),
    "aws_sns_topic_subscription": (_sns_subscription, lambda r: r.attributes.get("topic_arn")),
    "aws_cloudwatch_event_api_destination": (
        _single("invocation_endpoint", "url", "EventBridge API destination"),
        None,
    ),
    "aws_cloudwatch_event_target": (
        _single("arn", "arn", "EventBridge target"),
        lambda r: r.attributes.get("event_bus_name"),
    ),
    "aws_cloudwatch_log_subscription_filter": (
        _single("destination_arn", "arn", "log subscription"),
        lambda r: r.attributes.get("log_group_name"),
    ),
    "aws_cloudwatch_log_destination": (_single("target_arn", "arn", "log destination"), None),
    "aws_dms_endpoint": (_dms_endpoint, None),
    "aws_dms_replication_task": (
        _single("target_endpoint_arn", "arn", "DMS replication target"),
        lambda r: r.attributes.get("source_endpoint_arn"),
    ),
    "aws_datasync_task": (
        _single("destination_location_arn", "arn", "DataSync destination"),
        lambda r: r.attributes.get("source_location_arn"),
    ),
    "azurerm_monitor_diagnostic_setting": (_diagnostic_setting, lambda r: r.attributes.get("target_resource_id")),
    "google_pubsub_subscription": (_pubsub_subscription, lambda r: r.attributes.get("topic")),
    "aws_cloudfront_distribution": (_cloudfront, None),
    # Edge caches like CloudFront's, but with no price class: Azure CDN / Front Door and Google's CDNs cache
    # worldwide (checks/movement.py _EDGE_NETWORKS). A Front Door profile or endpoint holds nothing; the route caches.
    "azurerm_cdn_endpoint": (_edge("azure-cdn", "origin"), None),
    "azurerm_cdn_frontdoor_route": (_frontdoor_route, None),
    "azurerm_frontdoor": (_frontdoor_classic, None),
    "google_compute_backend_bucket": (_cloud_cdn, lambda r: r.attributes.get("bucket_name")),
    "google_compute_backend_service": (_cloud_cdn, None),
    "google_network_services_edge_cache_service": (_edge("google-media-cdn", "routing"), None),
    "google_logging_project_sink": (_logging_sink, None),
    "google_logging_folder_sink": (_logging_sink, None),
    "google_logging_organization_sink": (_logging_sink, None),
    "google_logging_billing_account_sink": (_logging_sink, None),
    "azurerm_eventgrid_event_subscription": (_eventgrid_subscription, lambda r: r.attributes.get("scope")),
    "aws_lambda_function": (_lambda_env, lambda r: r.address),
    **{t: (_newrelic_integration, None) for t in NEW_RELIC_INTEGRATIONS},
    **{t: (_datadog_integration, None) for t in DATADOG_INTEGRATIONS},
}


# ----------------------------------------------------------------------------- Kubernetes readers
def _pod_specs(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    kind = manifest.get("kind")
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return []
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        spec = get_path(spec, "jobTemplate.spec") or {}
    pod = get_path(spec, "template.spec")
    return [pod] if isinstance(pod, dict) else []


def _datadog_agent_image(image: Any) -> bool:
    """A Datadog Agent or Cluster Agent image (``registry.datadoghq.com/agent:7``, ``gcr.io/datadoghq/agent``)."""
    if not isinstance(image, str):
        return False
    repo = image.split("@", 1)[0]
    if ":" in repo.rsplit("/", 1)[-1]:
        repo = repo.rsplit(":", 1)[0]
    prefix, _, name = repo.rpartition("/")
    return name in ("agent", "cluster-agent") and "datadog" in prefix.lower()


def _env_flow(name: str, value: Any, via: str, line: int | None = None) -> Flow | None:
    """The destination one environment variable of a telemetry agent or library names, else None.

    Shared by containers and Lambda functions: the same SDKs read the same variables.
    """
    if name == "DD_SITE":
        return _flow(value, "host", via, "Datadog agent/library site", line)
    if name == "DD_DD_URL":
        return _flow(value, "url", via, "Datadog agent intake URL", line)
    if name == "SENTRY_DSN":
        return _flow(value, "url", via, "Sentry DSN", line)
    if _OTEL_ENV.match(name):
        return _flow(value, "url", via, "OTLP exporter", line)
    if name == "NEW_RELIC_REGION":
        return _flow(_new_relic_host(value, "NEW_RELIC_REGION"), "host", via, "New Relic region", line)
    return None


_K8S_ENV_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _expand_env(name: str, value: str, defined: Mapping[str, Any]) -> Any:
    """Kubernetes' own expansion of an env ``value``: "Variable references $(VAR_NAME) are expanded using the
    previously defined environment variables in the container ... If a variable cannot be resolved, the
    reference in the input string will be unchanged. Double $$ are reduced to a single $" (core/v1 EnvVar).

    A reference to an earlier literal is substituted (the OpenTelemetry demo's
    ``http://$(OTEL_COLLECTOR_NAME):4318``); to a ``valueFrom`` variable, or to one not defined before it (envFrom,
    a Service variable, set at run time), the value is Unknown: never guessed, never a pass.
    """
    unknown: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        ref = defined.get(m.group(1))
        if isinstance(ref, str):
            return ref
        unknown.append(m.group(1))
        return m.group(0)

    expanded = _K8S_ENV_REF.sub(sub, value)
    if unknown:
        return Unknown(f"{name} is {value!r}: $({unknown[0]}) is not a literal defined before it in the container's "
                       "env (valueFrom, envFrom or a Service variable: set at run time)")
    return expanded


def _env_flows(manifest: Mapping[str, Any]) -> Iterator[Flow]:
    for pod in _pod_specs(manifest):
        site_set = False
        agent: Mapping[str, Any] | None = None
        for group in ("initContainers", "containers"):
            for container in pod.get(group) or []:
                if not isinstance(container, dict):
                    continue
                if group == "containers" and agent is None and _datadog_agent_image(container.get("image")):
                    agent = container
                defined: dict[str, Any] = {}  # this container's earlier env entries, for $(VAR) expansion
                for env in container.get("env") or []:
                    if not isinstance(env, dict) or not isinstance(env.get("name"), str):
                        continue
                    name, value = env["name"], env.get("value")
                    site_set = site_set or name in ("DD_SITE", "DD_DD_URL")
                    if value is None and "valueFrom" in env:
                        value = Unknown(f"{name} comes from valueFrom (a Secret or ConfigMap key)")
                    elif isinstance(value, str) and "$" in value:
                        value = _expand_env(name, value, defined)
                    defined[name] = value
                    via = f"{group}[{container.get('name')}].env.{name}"
                    if flow := _env_flow(name, value, via, _line(env, "value")):
                        yield flow
        if agent is not None and not site_set:
            # The Agent sends to datadoghq.com (US1) unless DD_SITE/DD_DD_URL say otherwise; the
            # datadog Helm chart renders DD_SITE only when datadog.site is set ("US1 (default)").
            site: Any = "datadoghq.com"
            if any(isinstance(c, dict) and c.get("envFrom") for c in pod.get("containers") or []):
                site = Unknown("DD_SITE is not set in env and may come from envFrom")
            via = f"containers[{agent.get('name')}].image (no DD_SITE: the Agent's default site)"
            if f := _flow(site, "host", via, "Datadog agent default site", _line(agent, "image")):
                yield f


_IN_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def _kubernetes_destination(flow: Flow) -> Flow | None:
    """Drop a destination inside the cluster; one set from the environment at run time is Unknown.

    A single-label host (``otel-collector:4317``) or a ``*.svc[.cluster.local]`` name is a
    Service of the same cluster (the collector Helm chart's agent exports to one): the data has
    not left, and where the cluster runs is the workload rules' question. ``${env:X}`` (OTel
    Collector) and ``${X}`` (Fluent Bit) are substituted when the process starts.
    """
    dest = flow.destination
    if not isinstance(dest, str) or flow.kind not in ("url", "host"):
        return flow
    if "${" in dest:
        return replace(flow, destination=Unknown(f"{flow.via} is {dest!r}, set from the environment at run time"),
                       kind="unknown")
    host = host_of(dest)
    if host is not None and ("." not in host or host == "localhost" or host.endswith(_IN_CLUSTER_SUFFIXES)):
        return None
    return flow


def _aws_region_host(service: str, region: Any, via: str, what: str) -> Flow | None:
    """An AWS client given by ``region``: the regional endpoint it calls (``<service>.<region>.amazonaws.com``),
    which the host table locates. A region set from the environment (``${AWS_REGION}``, ``$AWS_REGION``)
    is left as written for :func:`_kubernetes_destination` to report, or is Unknown."""
    if isinstance(region, str) and region.strip() and "$" not in region:
        return Flow(f"{service}.{region.strip().lower()}.amazonaws.com", "host", via, f"{what} (region {region})")
    if isinstance(region, str) and region.startswith("$") and "{" not in region:
        region = Unknown(f"{via} is {region!r}, set from the environment at run time")
    return _flow(region, "host", via, what)


#: OpenTelemetry Collector contrib exporters to AWS services: the exporter type -> (the region's
#: path in its config, the service's endpoint label, the default region or None). Without
#: ``endpoint`` the exporter calls the regional endpoint; awss3's region defaults to us-east-1
#: (exporter/awss3exporter README), the others take theirs from the environment when not written.
_OTEL_AWS = {
    "awss3": ("s3uploader.region", "s3uploader.endpoint", "s3", "us-east-1"),
    "awscloudwatchlogs": ("region", "endpoint", "logs", None),
    "awsemf": ("region", "endpoint", "logs", None),
    "awsxray": ("region", "endpoint", "xray", None),
    "awskinesis": ("aws.region", "aws.kinesis_endpoint", "kinesis", None),
}


def _otel_aws(kind: str, exporter: Mapping[str, Any], via: str) -> Flow | None:
    region_path, endpoint_path, service, default = _OTEL_AWS[kind]
    what = f"OTel Collector {kind} exporter"
    endpoint = get_path(exporter, endpoint_path)
    if endpoint:
        return None if endpoint_path == "endpoint" else _flow(endpoint, "url", f"{via}.{endpoint_path}", what)
    region = get_path(exporter, region_path)
    if region is None:
        region = default or Unknown(f"the {kind} exporter names no region: it takes the region from the "
                                    "environment (AWS_REGION) or the instance metadata")
    return _aws_region_host(service, region, f"{via}.{region_path}", what)


def _otel_config(config: Mapping[str, Any], key: str, where: str | None = None) -> Iterator[Flow]:
    """A Collector config's exporters; ``where`` names the config when it is no ConfigMap key (``spec.config``)."""
    exporters = config.get("exporters")
    if not isinstance(exporters, dict):
        return
    for name, exporter in exporters.items():
        if not isinstance(exporter, dict):
            continue
        via = f"{where or 'data.' + key}: exporters.{name}"
        kind = str(name).split("/")[0]
        if kind in _OTEL_AWS and (f := _otel_aws(kind, exporter, via)):
            yield f
        if kind == "datadog":
            site = get_path(exporter, "api.site") or "datadoghq.com"  # the exporter's documented default
            if f := _flow(site, "host", f"{via}.api.site", "OTel Collector Datadog exporter"):
                yield f
        for field_name in ("endpoint", "traces_endpoint", "logs_endpoint", "metrics_endpoint"):
            if f := _flow(exporter.get(field_name), "url", f"{via}.{field_name}", "OTel Collector exporter"):
                yield f


#: Fluent Bit outputs to an AWS service: the plugin name -> the service's endpoint label. Without
#: ``endpoint`` the plugin calls ``<label>.<region>.amazonaws.com`` for its ``region``; the S3 output's
#: region defaults to us-east-1 (Fluent Bit docs, Amazon S3 output), the others require one.
_FLUENT_BIT_AWS = {
    "cloudwatch_logs": "logs", "cloudwatch": "logs", "kinesis_firehose": "firehose", "firehose": "firehose",
    "kinesis_streams": "kinesis", "kinesis": "kinesis", "s3": "s3",
}
#: The Fluent Bit datadog output's default ``Host`` (Fluent Bit docs, Datadog output): Datadog US1.
_FLUENT_BIT_DATADOG_HOST = "http-intake.logs.datadoghq.com"


def _fluent_bit_output(props: Mapping[str, Any], label: str, via_prefix: str) -> Flow | None:
    """One Fluent Bit output (classic ``[OUTPUT]`` section or YAML ``pipeline.outputs`` item) as a flow.

    Keys are case-insensitive in Fluent Bit (``Host`` and ``host``), so ``props`` are lower-cased.
    """
    name = str(props.get("name", "")).strip().lower()
    what = f"Fluent Bit {name or 'output'} output"
    if name in _FLUENT_BIT_AWS:
        if props.get("endpoint"):
            return _flow(props["endpoint"], "url", f"{via_prefix} {label} endpoint", what)
        region = props.get("region")
        if region is None:
            region = "us-east-1" if name == "s3" else Unknown(
                f"the Fluent Bit {name} output names no region (it is required)")
        return _aws_region_host(_FLUENT_BIT_AWS[name], region, f"{via_prefix} {label} region", what)
    host = props.get("host")
    if host is None and name == "datadog":
        return Flow(_FLUENT_BIT_DATADOG_HOST, "host", f"{via_prefix} {label} Host (the output's default)", what)
    return _flow(host, "host", f"{via_prefix} {label} Host", what)


def _fluent_bit(text: str, key: str) -> Iterator[Flow]:
    """Classic-mode ``[OUTPUT]`` sections."""
    sections: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = {} if line.upper() == "[OUTPUT]" else None
            if current is not None:
                sections.append(current)
        elif current is not None and line and not line.startswith("#"):
            k, _, v = line.partition(" ")
            current[k.strip().lower()] = v.strip()
    for i, section in enumerate(sections):
        if f := _fluent_bit_output(section, str(section.get("name", i)), f"data.{key}: [OUTPUT]"):
            yield f


def _fluent_bit_yaml(config: Mapping[str, Any], key: str) -> Iterator[Flow]:
    """YAML-mode Fluent Bit: ``pipeline.outputs`` is a list of outputs, each a mapping of its properties."""
    pipeline = config.get("pipeline")
    outputs = pipeline.get("outputs") if isinstance(pipeline, dict) else None  # a list even of one
    if not isinstance(outputs, list):
        return
    for i, output in enumerate(outputs):
        if not isinstance(output, dict):
            continue
        props = {str(k).lower(): v for k, v in output.items()}
        label = str(props.get("name", i))
        if f := _fluent_bit_output(props, label, f"data.{key}: pipeline.outputs[{i}]"):
            yield f


def _fluentd(text: str, key: str) -> Iterator[Flow]:
    for block in _FLUENTD_MATCH.findall(text):
        for host in _FLUENTD_HOST.findall(block):
            if f := _flow(host, "host", f"data.{key}: <match> host", "Fluentd output"):
                yield f


#: Vector sinks to AWS services: the sink type -> the service's endpoint label (Vector docs, sinks
#: reference: ``region`` or ``endpoint``; without either the region comes from the environment).
_VECTOR_AWS = {
    "aws_cloudwatch_logs": "logs", "aws_cloudwatch_metrics": "monitoring", "aws_kinesis_firehose": "firehose",
    "aws_kinesis_streams": "kinesis", "aws_s3": "s3", "aws_sqs": "sqs", "aws_sns": "sns",
}
#: Sink options naming a destination URL, for the sinks not read by type; ``address`` only where it
#: is where the sink sends (a prometheus_exporter's ``address`` is the one it listens on).
_VECTOR_URL_KEYS = ("endpoint", "uri")
_VECTOR_ADDRESS_SINKS = frozenset({"vector", "socket", "statsd"})


def _vector_sink(name: str, sink: Mapping[str, Any], key: str) -> Iterator[Flow]:
    kind = str(sink.get("type", ""))
    via = f"data.{key}: sinks.{name}"
    what = f"Vector {kind or 'sink'} sink"
    if kind in _VECTOR_AWS:
        if sink.get("endpoint"):
            if f := _flow(sink["endpoint"], "url", f"{via}.endpoint", what):
                yield f
            return
        region = sink.get("region")
        if region is None:
            region = Unknown(f"the Vector {kind} sink names no region: it takes the region from the environment")
        if f := _aws_region_host(_VECTOR_AWS[kind], region, f"{via}.region", what):
            yield f
        return
    if kind.startswith("datadog_"):
        if sink.get("endpoint"):
            found = _flow(sink["endpoint"], "url", f"{via}.endpoint", what)
        else:  # the sink's documented default site is datadoghq.com (US1)
            found = _flow(sink.get("site", "datadoghq.com"), "host", f"{via}.site", what)
        if found:
            yield found
        return
    if kind == "new_relic":
        region = _new_relic_host(sink.get("region", "us"), "Vector new_relic region")  # New Relic's default: US
        if f := _flow(region, "host", f"{via}.region", what):
            yield f
        return
    endpoints = sink.get("endpoints")
    for i, url in enumerate(endpoints if isinstance(endpoints, list) else []):
        if f := _flow(url, "url", f"{via}.endpoints[{i}]", what):
            yield f
    for option in _VECTOR_URL_KEYS + (("address",) if kind in _VECTOR_ADDRESS_SINKS else ()):
        if f := _flow(sink.get(option), "url", f"{via}.{option}", what):
            yield f
    if f := _flow(get_path(sink, "protocol.uri"), "url", f"{via}.protocol.uri", what):  # opentelemetry sink
        yield f


def _vector(text: str, yaml_config: Mapping[str, Any], key: str) -> Iterator[Flow]:
    """Vector's ``sinks`` in a TOML (``vector.toml``) or YAML (``vector.yaml``, given parsed) config."""
    config: Mapping[str, Any] = {}
    if key.endswith(".toml") or "[sinks." in text:
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            config = {}
    if not config:
        config = yaml_config
    sinks = config.get("sinks")
    if not isinstance(sinks, dict):
        return
    for name, sink in sinks.items():
        if isinstance(sink, dict):
            yield from _vector_sink(str(name), sink, key)


def _yaml_mapping(text: str) -> Mapping[str, Any]:
    """A config file's YAML as a mapping; an empty one when it is not YAML or not a mapping."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def _configmap_flows(manifest: Mapping[str, Any]) -> Iterator[Flow]:
    data = manifest.get("data")
    if not isinstance(data, dict):
        return
    for key, text in data.items():
        if not isinstance(text, str):
            continue
        found: list[Flow] = []
        otel, vector = "exporters:" in text, "sinks:" in text or "[sinks." in text
        fluent_bit_yaml = "pipeline:" in text and "outputs:" in text
        # parsed once for the three YAML readers (a config is seldom more than one of them)
        config = _yaml_mapping(text) if otel or vector or fluent_bit_yaml else {}
        if otel:
            found += _otel_config(config, key)
        if vector:
            found += _vector(text, config, key)
        if fluent_bit_yaml:
            found += _fluent_bit_yaml(config, key)
        if "[OUTPUT]" in text.upper():
            found += _fluent_bit(text, key)
        if "<match" in text:
            found += _fluentd(text, key)
        line = _line(data, key)
        yield from (replace(f, line=line) if f.line is None else f for f in found)


def _datadog_agent(manifest: Mapping[str, Any]) -> Iterator[Flow]:
    site = get_path(manifest, "spec.global.site") or "datadoghq.com"  # the operator's default site
    line = _line(get_path(manifest, "spec.global"), "site")
    if f := _flow(site, "host", "spec.global.site", "Datadog agent", line):
        yield f


def _otel_operator_collector(manifest: Mapping[str, Any]) -> Iterator[Flow]:
    """The OpenTelemetry Operator's OpenTelemetryCollector: the Collector config is ``spec.config``, a mapping
    (opentelemetry.io/v1beta1) or a YAML string (v1alpha1), on the line of ``config``."""
    spec = manifest.get("spec")
    config = spec.get("config") if isinstance(spec, dict) else None
    if isinstance(config, str):
        config = _yaml_mapping(config)
    if isinstance(config, dict):
        line = _line(spec, "config")
        yield from (replace(f, line=line) if f.line is None else f
                    for f in _otel_config(config, "config", "spec.config"))


def _kubernetes_flows(r: Resource) -> Iterator[Flow]:
    m = r.attributes
    kind = m.get("kind")
    if kind == "ConfigMap":
        found = _configmap_flows(m)
    elif kind == "OpenTelemetryCollector" and str(m.get("apiVersion", "")).startswith("opentelemetry.io/"):
        found = _otel_operator_collector(m)
    elif kind == "DatadogAgent":
        found = _datadog_agent(m)
    else:
        found = _env_flows(m)
    seen: set[str] = set()
    for flow in found:
        kept = _kubernetes_destination(flow)
        # one pipe per destination: every container of an agent repeats the same DD_SITE
        if kept is not None and (key := repr(kept.destination)) not in seen:
            seen.add(key)
            yield kept


# ----------------------------------------------------------------------------- linking references
#: A referenced resource that only points at the resource holding the data: (attribute naming it,
#: the (type, attribute) that name matches). An Event Hub authorization rule names its namespace.
_POINTS_AT: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "azurerm_eventhub_namespace_authorization_rule": ("namespace_name", (("azurerm_eventhub_namespace", "name"),)),
    "azurerm_eventhub_authorization_rule": ("namespace_name", (("azurerm_eventhub_namespace", "name"),)),
}


def _resource_location(r: Resource) -> tuple[str, str] | None:
    """Where a resource that is no data store runs: its ``location``/``region`` argument, else its provider's."""
    cloud = normalize_cloud(r.type.split("_", 1)[0])
    if cloud is None:
        return None
    for attr in ("location", "region"):
        value = r.attributes.get(attr)
        if isinstance(value, str) and value:
            return f"{cloud}:{value}", f"the {attr} of {r.address} ({r.file}:{r.line})"
    region = r.provider.region if r.provider is not None else None
    if isinstance(region, str) and region:
        return f"{cloud}:{region}", f"the region of {r.address} ({r.provider.source if r.provider else ''})"
    return None


def link_flows(found: list[FlowFacts], resources: Iterable[Resource], unit: Callable[[Resource], str]) -> None:
    """Give each referenced destination what the referenced resource says about where it is.

    A reference to a data store is located by the store's facts when judged; for one to anything
    else (a Cloud Run service's ``uri``, a DataSync location's ``arn``) the resource's own
    location is recorded here, and a reference to an Event Hub authorization rule becomes the
    name of its namespace. ``unit`` keys the resources as the engine does (addresses repeat
    across roots).
    """
    if not found:
        return
    index = {(unit(r), r.address): r for r in resources}
    for facts in found:
        key = unit(facts.resource)
        for i, flow in enumerate(facts.flows):
            dest = flow.destination
            target = index.get((key, dest.address)) if isinstance(dest, Ref) else None
            if target is None:
                continue
            if target.type in _POINTS_AT:
                attr, targets = _POINTS_AT[target.type]
                facts.flows[i] = _named(target.attributes.get(attr), targets, flow.via, flow.what) or flow
                facts.flows[i] = replace(facts.flows[i], line=flow.line)
            else:
                facts.flows[i] = replace(flow, located=_resource_location(target))


#: The Terraform types read here (the Kubernetes readers go by kind and content).
FLOW_TYPES = frozenset(_TERRAFORM)


def read_flows(r: Resource) -> FlowFacts | None:
    """The flows of one resource, or None when it is no pipe (or names no destination)."""
    if r.source == "kubernetes":
        flows = list(_kubernetes_flows(r))
        source: Any = r.address if flows else None
        cloud = "kubernetes"
    else:
        reader = _TERRAFORM.get(r.type)
        if reader is None:
            return None
        read, source_of = reader
        flows = list(read(r))
        lines = r.extra.get("attribute_lines")
        if lines:
            flows = [f if f.line else replace(f, line=_argument_line(lines, f.via)) for f in flows]
        source = source_of(r) if source_of else None
        cloud = normalize_cloud(r.type.split("_", 1)[0]) or "unknown"
    if not flows:
        return None
    return FlowFacts(resource=r, cloud=cloud, flows=flows, source=source)
