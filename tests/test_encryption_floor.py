"""A key known only after apply raises encryption, never removes it (issue 16: aws:kms is at least provider-managed).

Scanned on fixtures/terraform/realistic/unknown_module_keys (keys from a registry module not on disk, as in
the terraform-aws-modules sqs/s3-bucket/efs/sns examples): under a provider-managed minimum the SQS SSE-KMS
queue, the aws:kms S3 Vectors bucket and the encrypted EFS pass; under a customer-managed minimum the same
unknown key leaves them unresolved, because which key it is still decides. Where the unknown key lives is
unknown either way: RES004 is unresolved for each (a key in another region must not pass).
"""

from __future__ import annotations

import dataclasses

from scanner.engine import ScanOptions, scan
from scanner.model import Encryption
from scanner.policy import load_policy
from tests.conftest import BUNDLED_POLICY, FIXTURES, REPO

ROOT = FIXTURES / "terraform" / "realistic" / "unknown_module_keys"


def _encryption_findings(minimum: Encryption) -> dict[str, str]:
    policy = dataclasses.replace(load_policy(BUNDLED_POLICY), encryption_minimum=minimum)
    report = scan(ScanOptions(paths=[ROOT], cwd=REPO, use_cache=False), policy)
    return {f.resource: f.category.value for f in report.findings if f.rule_id == "RES003"}


def test_unknown_key_meets_a_provider_managed_minimum_when_encryption_is_proven():
    assert _encryption_findings(Encryption.PROVIDER) == {
        "aws_sqs_queue.no_sse": "unresolved",  # SSE-SQS off: a null key would leave it unencrypted
        "aws_sns_topic.topic": "unresolved",  # unencrypted unless a key is set
    }


def test_unknown_key_is_still_unresolved_under_a_customer_managed_minimum():
    assert _encryption_findings(Encryption.CUSTOMER) == {
        "aws_sqs_queue.cmk": "unresolved",
        "aws_sqs_queue.no_sse": "unresolved",
        "aws_s3vectors_vector_bucket.vectors": "unresolved",
        "aws_efs_file_system.efs": "unresolved",
        "aws_sns_topic.topic": "unresolved",
    }


def test_unknown_key_location_is_unresolved_whatever_the_minimum():
    policy = load_policy(BUNDLED_POLICY)
    report = scan(ScanOptions(paths=[ROOT], cwd=REPO, use_cache=False), policy)
    assert {f.resource for f in report.findings if f.rule_id == "RES004" and f.category.value == "unresolved"} == {
        "aws_sqs_queue.cmk", "aws_sqs_queue.no_sse", "aws_s3vectors_vector_bucket.vectors",
        "aws_efs_file_system.efs", "aws_sns_topic.topic"}
