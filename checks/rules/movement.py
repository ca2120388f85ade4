"""RES007 data-flow-outside-allowed-regions: a pipe sends data to a destination outside the allowed regions.

What it checks
    Every destination a pipe is written to send data to, as :mod:`checks.flows` reads it: Kinesis
    Firehose HTTP endpoints, Splunk HEC endpoints and S3/OpenSearch/Redshift destinations, SNS
    subscriptions, EventBridge API destinations and targets, log subscription filters, DMS target
    endpoints and tasks, DataSync tasks, Pub/Sub push endpoints and BigQuery/Cloud
    Storage subscriptions, log sinks (project, folder, organization, billing account) to Pub/Sub
    topics, located where the topic's ``message_storage_policy`` keeps messages (a sink to Cloud
    Storage, BigQuery or a log bucket, a Storage Transfer job's sink bucket and a BigQuery Data
    Transfer config's location are RES002/RES001's copies and placements, not reported twice),
    Event Grid webhooks, Azure diagnostic settings, CloudFront distributions (edge caches hold
    copies of responses at the edge locations ``price_class`` picks, default ``PriceClass_All``; every
    class includes the United States, so under an EU policy every distribution is a finding: allow
    the places in ``movement.allowed``, lower the rule's severity with ``rules: {RES007: {severity:
    low}}``, or waive the distribution by address), the same for other CDNs, which cache worldwide with no
    price class: an Azure CDN endpoint, a Front Door route with a ``cache`` block (a classic Front Door
    routing rule with ``cache_enabled``), a Google backend bucket or backend service with
    ``enable_cdn = true`` and a Media CDN edge cache service; New Relic cloud integrations at the
    ``provider "newrelic"`` region (US, EU, JP; not set: US) and Datadog cloud integrations, AWS log
    collection and the Confluent account integration at the ``provider "datadog"`` ``api_url`` site
    (not set: US1); and in Kubernetes
    ``DD_SITE``, ``SENTRY_DSN``, ``OTEL_EXPORTER_OTLP_*_ENDPOINT``, ``NEW_RELIC_REGION``,
    OpenTelemetry Collector (a ConfigMap, or the Operator's ``OpenTelemetryCollector`` ``spec.config``),
    Fluent Bit and Fluentd outputs, the DatadogAgent site, and a Datadog
    Agent container with no ``DD_SITE`` (the Agent's default site, US1). A Kubernetes destination
    inside the cluster (a single-label Service name, ``*.svc``, ``*.cluster.local``,
    ``localhost``) has not left it and is not read; one set from the environment at run time
    (``${env:X}``, or an env ``$(VAR)`` that is not an earlier literal of the same container, which Kubernetes
    expands) is unresolved. A host is located by the policy's ``endpoints:`` or the bundled
    endpoint table (Datadog, Sentry, New Relic, Splunk sites, cloud service hosts); an ARN by its
    region (an S3 bucket ARN by the scanned bucket of that name), and an ARN of another AWS
    account the policy's ``principals:`` places by its owner too; a reference by the store it
    names, else by the referenced resource's own location (a Cloud Run service's ``uri``); a
    name (a Pub/Sub subscription's dataset or bucket, the Event Hub namespace in a diagnostic
    setting's rule id or reference) by the scanned store of that name. The allowed set is
    ``movement.allowed``, else the path's ``allowed_regions``. One violation per destination
    outside the set, on the url/endpoint argument's line; a destination that cannot be located is unresolved (blocking
    unless ``movement.unresolved: warn``, or the top-level ``unresolved: warn`` when
    ``movement.unresolved`` is not written).

Why it matters
    Logs, metrics, traces and events carry personal data. A Firehose stream in ``eu-central-1``
    delivering to Datadog's US1 intake moves that data to the United States just as surely as a
    bucket there would store it.

Example
    Failing::

        resource "aws_kinesis_firehose_delivery_stream" "logs" {
          destination = "http_endpoint"
          http_endpoint_configuration {
            url = "https://aws-kinesis-http-intake.logs.datadoghq.com/v1/input"  # Datadog US1
          }
        }

    Fixed::

        resource "aws_kinesis_firehose_delivery_stream" "logs" {
          destination = "http_endpoint"
          http_endpoint_configuration {
            url = "https://aws-kinesis-http-intake.logs.datadoghq.eu/v1/input"  # Datadog EU1
          }
        }

How to fix
    Send the data to a site or region the policy allows (the vendor's EU site, a collector in an
    allowed region), or, when the destination is in fact allowed, tell the scanner where it is with
    an ``endpoints:`` entry (``{host: "...", location: country:DE}``) or widen ``movement.allowed``.

Controls
    NIST CSF 2.0 PR.DS-02; ISO/IEC 27001:2022 5.14; SOC 2 CC6.7, CC9.2.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.flows import Flow, FlowFacts
from checks.movement import FlowVerdict, judge_flow
from checks.rules.api import Rule, RuleContext
from scanner.model import Category, Severity, Violation
from scanner.policy import AllowedSet


def judge_flows(facts: FlowFacts, ctx: RuleContext) -> Iterator[tuple[FlowVerdict, AllowedSet]]:
    """Each destination of ``facts`` judged as RES007 judges it, with the allowed set used.

    The inventory draws its flow edges from this too, so the map and the findings cannot disagree.
    """
    policy = ctx.policy
    movement_allowed = policy.movement.allowed
    # policy.movement_allowed_for(path), with the path's set the engine already built
    allowed = movement_allowed if isinstance(movement_allowed, AllowedSet) else ctx.allowed
    self_id = policy.self_id("aws", ctx.policy_path)
    for flow in facts.flows:
        yield judge_flow(flow, allowed, ctx.catalog, endpoints=policy.endpoints, facts=ctx.facts,
                         principals=policy.principals, self_id=self_id), allowed


def _locate_hint(flow: Flow) -> str:
    if flow.kind in ("name", "id", "arn"):  # another resource: located from its own arguments when scanned
        return ("Locate the destination: scan the configuration that declares it together with this one, or "
                "write its name/ARN statically; if it is in an allowed region, waive the finding saying where.")
    return ("Locate the destination: write it statically, or declare its host in the policy's endpoints: "
            "(e.g. endpoints: [{host: \"...\", location: country:<CC>}]).")


def _outside_hint(flow: Flow, allowed: AllowedSet) -> str:
    if flow.kind == "edge" and not str(flow.destination).startswith("PriceClass"):
        return ("This CDN caches at edge locations worldwide with no setting to keep the cache in a region; turn "
                "caching off where the data must stay (a Front Door route without a cache block, enable_cdn = false), "
                "or, where edge caching is accepted, allow those places in movement.allowed, lower RES007's severity "
                "(rules: {RES007: {severity: low}}) or waive the resource in the policy's waivers:.")
    if flow.kind == "edge":
        return ("Keep price_class as small as the audience allows (PriceClass_100: North America, Europe, Israel) "
                "and, where edge caching there is accepted, allow those places in movement.allowed, lower RES007's "
                "severity (rules: {RES007: {severity: low}}) or waive the distribution in the policy's waivers:.")
    return (f"Send the data to a destination in {allowed.describe()} (e.g. the vendor's site there), or declare the "
            "destination's real location in the policy's endpoints:.")


def check(facts: FlowFacts, ctx: RuleContext) -> Iterator[Violation]:
    """Yield one violation per destination outside the allowed set, and one per destination not located."""
    address = facts.resource.address
    for verdict, allowed in judge_flows(facts, ctx):
        flow = verdict.flow
        subject = f"{address} sends {flow.what} to {verdict.destination} ({flow.via})"
        if verdict.status == "unresolved":
            yield Violation(
                category=Category.UNRESOLVED,
                message=f"The destination of {address} ({flow.via}) cannot be checked: {verdict.reason}.",
                remediation=_locate_hint(flow),
                provenance=verdict.origin,
                line=flow.line,
            )
        elif verdict.status == "outside":
            codes = [f"{r.cloud}:{r.code}" for r in verdict.outside]
            where = ", ".join(codes[:4]) + (f" and {len(codes) - 4} more" if len(codes) > 4 else "")
            where = where or verdict.location or "?"
            reason = f" ({verdict.reason})" if verdict.reason else ""
            yield Violation(
                category=Category.MOVEMENT,
                message=f"{subject}, located in {verdict.location} ({verdict.origin}), outside the allowed "
                f"regions ({allowed.describe()}): {where}{reason}.",
                remediation=_outside_hint(flow, allowed),
                region=verdict.outside[0].code if verdict.outside else None,
                provenance=verdict.origin,
                line=flow.line,
            )


RULE = Rule(
    id="RES007",
    name="data-flow-outside-allowed-regions",
    category=Category.MOVEMENT,
    severity=Severity.HIGH,
    summary="A pipe (delivery stream, subscription, exporter, agent site) sends data to a destination outside "
    "the allowed regions.",
    check=check,
    roles=("flow",),
    controls=(
        "NIST:PR.DS-02",
        "ISO27001:5.14",
        "SOC2:CC6.7",
        "SOC2:CC9.2",
    ),
    doc=__doc__ or "",
    checkov_id="CKV_RES_7",
)
