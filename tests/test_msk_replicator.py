"""One MSK replication is one finding (issue 15): RES002 on the source, no RES001/RES007 on the replicator.

The replicator copies the source cluster's topics into the target cluster and stores nothing itself, so
the catalog reads it as a copy of the source placed where the target is (checks/datastores.yaml), and
checks/flows.py does not read it as a flow. fixtures/terraform/catalog_aws/copies.tf shows the same
inside the fixture tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import ScanOptions, scan
from scanner.policy import policy_from_regions

CLUSTER = """
resource "aws_msk_cluster" "{name}" {{
  provider               = {provider}
  cluster_name           = "{name}"
  kafka_version          = "3.6.0"
  number_of_broker_nodes = 3
  broker_node_group_info {{
    instance_type   = "kafka.m5.large"
    client_subnets  = ["a", "b", "c"]
    security_groups = ["sg"]
  }}
}}
"""

REPLICATOR = """
provider "aws" {{
  region = "eu-west-1"
}}

provider "aws" {{
  alias  = "far"
  region = "{target_region}"
}}

resource "aws_msk_replicator" "r" {{
  provider                   = aws.far
  replicator_name            = "r"
  service_execution_role_arn = "arn:aws:iam::123456789012:role/replicator"
  kafka_cluster {{
    amazon_msk_cluster {{
      msk_cluster_arn = {source}
    }}
    vpc_config {{
      subnet_ids = ["a"]
    }}
  }}
  kafka_cluster {{
    amazon_msk_cluster {{
      msk_cluster_arn = aws_msk_cluster.target.arn
    }}
    vpc_config {{
      subnet_ids = ["b"]
    }}
  }}
  replication_info_list {{
    source_kafka_cluster_arn = {source}
    target_kafka_cluster_arn = aws_msk_cluster.target.arn
    target_compression_type  = "NONE"
    topic_replication {{
      topics_to_replicate = [".*"]
    }}
    consumer_group_replication {{
      consumer_groups_to_replicate = [".*"]
    }}
  }}
}}
"""

EXTERNAL_SOURCE = '"arn:aws:kafka:eu-west-1:123456789012:cluster/src/11111111-2222-3333-4444-555555555555-1"'


def _findings(root: Path, target_region: str, scanned_source: bool) -> list:
    source = "aws_msk_cluster.source.arn" if scanned_source else EXTERNAL_SOURCE
    text = REPLICATOR.format(target_region=target_region, source=source)
    text += CLUSTER.format(name="target", provider="aws.far")
    if scanned_source:
        text += CLUSTER.format(name="source", provider="aws")
    (root / "main.tf").write_text(text)
    policy = policy_from_regions(["in:eu-locations"], root)
    report = scan(ScanOptions(paths=[root], cwd=root, use_cache=False), policy)
    # the target cluster's own placement is about that store, not about the replication
    return [f for f in report.findings if f.resource != "aws_msk_cluster.target"]


@pytest.mark.parametrize("scanned_source", [True, False])
def test_one_replication_out_of_the_policy_is_exactly_one_replication_finding(
    tmp_path: Path, scanned_source: bool
) -> None:
    findings = _findings(tmp_path, "us-east-1", scanned_source)
    assert [(f.rule_id, f.category) for f in findings] == [("RES002", "replication")]
    (finding,) = findings
    assert finding.resource == ("aws_msk_cluster.source" if scanned_source else "aws_msk_replicator.r")
    assert "us-east-1" in finding.message


@pytest.mark.parametrize("scanned_source", [True, False])
def test_a_replication_inside_the_policy_gives_no_finding(tmp_path: Path, scanned_source: bool) -> None:
    assert _findings(tmp_path, "eu-central-1", scanned_source) == []
