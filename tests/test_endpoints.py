"""The bundled SaaS/cloud host table (scanner/regions/data/endpoints.json) and its matcher."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from scanner.regions import catalog
from scanner.regions.endpoints import (
    EndpointTable,
    endpoint_table,
    host_of,
    location_exists,
)


def _raw() -> dict:
    return json.loads(resources.files("scanner.regions").joinpath("data/endpoints.json").read_text("utf-8"))


def test_every_entry_location_exists_in_the_catalog():
    cat = catalog()
    for entry in _raw()["entries"]:
        locations = list(entry.get("codes", {}).values())
        if entry.get("location") is not None:
            locations.append(entry["location"])
        for location in locations:
            assert location_exists(cat, location), (entry["id"], location)
        if "region_cloud" in entry:
            assert cat.all_regions(entry["region_cloud"])
        assert entry["source"].startswith("https://"), entry["id"]


def test_table_is_versioned_and_compiles():
    table = endpoint_table()
    assert table.version == _raw()["version"]
    assert len(table.entries) == len(_raw()["entries"])


@pytest.mark.parametrize(
    ("value", "location", "entry"),
    [
        ("https://aws-kinesis-http-intake.logs.datadoghq.com/v1/input", "country:US", "datadog-us1"),
        ("https://aws-kinesis-http-intake.logs.datadoghq.eu/v1/input", "country:DE", "datadog-eu1"),
        ("aws-kinesis-http-intake.logs.us3.datadoghq.com", "country:US", "datadog-us3"),
        ("us5.datadoghq.com", "country:US", "datadog-us5"),
        ("http-intake.logs.ap1.datadoghq.com", "country:JP", "datadog-ap1"),
        ("ap2.datadoghq.com", "country:AU", "datadog-ap2"),
        ("uk1.datadoghq.com", "country:GB", "datadog-uk1"),
        ("datadoghq.eu", "country:DE", "datadog-eu1"),
        ("ddog-gov.com", "country:US", "datadog-us1-fed"),
        ("https://abc123@o42.ingest.de.sentry.io/4505", "country:DE", "sentry-de"),
        ("https://abc123@o42.ingest.sentry.io/4505", "country:US", "sentry-us"),
        ("https://abc123@o42.ingest.us.sentry.io/4505", "country:US", "sentry-us"),
        ("https://otlp.eu01.nr-data.net:4318", "country:DE", "newrelic-eu"),
        ("https://log-api.eu.newrelic.com/log/v1", "country:DE", "newrelic-eu"),
        ("https://otlp.nr-data.net", "country:US", "newrelic-us"),
        ("https://log-api.jp.nr-data.net/log/v1", "country:JP", "newrelic-jp"),  # not the US *.nr-data.net
        ("api.jp.newrelic.com", "country:JP", "newrelic-jp"),
        ("https://ingest.eu0.signalfx.com/v2/trace", "aws:eu-west-1", "splunk-observability-realm"),
        ("ingest.us1.observability.splunkcloud.com", "aws:us-west-2", "splunk-observability-realm"),
        ("https://my-dep.es.eu-west-1.aws.found.io:9243", "aws:eu-west-1", "elastic-cloud-aws"),
        ("abc.europe-west3.gcp.cloud.es.io", "gcp:europe-west3", "elastic-cloud-gcp"),
        ("abc.westeurope.azure.elastic-cloud.com", "azure:westeurope", "elastic-cloud-azure"),
        ("https://firehose.eu-central-1.amazonaws.com", "aws:eu-central-1", "aws-regional-endpoint"),
        ("bucket.s3.dualstack.us-east-1.amazonaws.com", "aws:us-east-1", "aws-regional-endpoint"),
        ("abc.lambda-url.eu-west-3.on.aws", "aws:eu-west-3", "aws-regional-endpoint"),
        ("s3-eu-west-1.amazonaws.com", "aws:eu-west-1", "aws-regional-endpoint"),
        ("https://hello-123456789.europe-west1.run.app/push", "gcp:europe-west1", "gcp-cloud-run"),
        ("https://hello-abcdefghij-ew.a.run.app", "gcp:europe-west1", "gcp-cloud-run-legacy"),
        ("https://hello-abcdefghij-uk.a.run.app", "gcp:us-east4", "gcp-cloud-run-legacy"),
        ("europe-west4-pubsub.googleapis.com", "gcp:europe-west4", "gcp-regional-endpoint"),
        ("myvm.westeurope.cloudapp.azure.com", "azure:westeurope", "azure-cloudapp"),
        ("app.eastus.azurecontainer.io", "azure:eastus", "azure-container-instances"),
        ("help.northeurope.kusto.windows.net", "azure:northeurope", "azure-data-explorer"),
    ],
)
def test_bundled_hosts(value, location, entry):
    match = endpoint_table().locate(value)
    assert (match.location, match.entry, match.origin) == (location, entry, "bundled")
    assert location_exists(catalog(), location)


def test_longest_region_code_wins():
    # europe-west1 is a prefix of europe-west10: the region alternation tries the longer code first.
    assert endpoint_table().locate("x.europe-west10.run.app").location == "gcp:europe-west10"


def test_a_label_that_is_no_region_does_not_match():
    match = endpoint_table().locate("bucket.s3.amazonaws.com")
    assert match.location is None and match.origin == "none"


def test_splunk_cloud_hec_is_unresolved_until_declared():
    table = endpoint_table()
    match = table.locate("https://http-inputs-acme.splunkcloud.com:443/services/collector")
    assert match.location is None and match.entry == "splunk-cloud-hec"
    assert "endpoints:" in match.reason and "http-inputs-acme.splunkcloud.com" in match.reason


def test_unknown_host_is_unresolved_with_how_to_declare_it():
    match = endpoint_table().locate("https://collector.example.org/ingest")
    assert match.location is None and match.origin == "none"
    assert 'endpoints: [{host: "collector.example.org", location: country:<CC>}]' in match.reason


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("https://User@Example.COM.:8443/p?q", "example.com"),
        ("otel-collector.example.com:4317", "otel-collector.example.com"),
        ("datadoghq.eu", "datadoghq.eu"),
        ("10.0.0.1:4317", None),
        ("${var.endpoint}", None),
        ("", None),
    ],
)
def test_host_of(value, host):
    assert host_of(value) == host


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "x", "service": "s", "source": "https://e", "hosts": ["a.com"], "location": "country:US", "extra": 1},
        {"id": "x", "service": "s", "source": "https://e", "hosts": ["a.com"]},
        {"id": "x", "service": "s", "source": "https://e", "hosts": ["{region}.a.com"], "location": "country:US"},
        {"id": "x", "service": "s", "source": "https://e", "hosts": ["a.com"], "region_cloud": "aws"},
        {"id": "x", "service": "s", "source": "https://e", "hosts": ["a.com"], "location": None},
    ],
)
def test_malformed_entries_are_rejected(entry):
    with pytest.raises(ValueError):
        EndpointTable({"version": "t", "entries": [entry]}, catalog())
