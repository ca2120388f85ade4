"""Encryption that depends on one argument (``cases:`` in datastores.yaml) and the EMR handler.

Built as the loader hands resources over (see tests/test_catalog.py), so the contract is pinned
without HCL parsing; the fixtures under fixtures/terraform/catalog_aws/copies.tf show the same cases
end to end.
"""

from __future__ import annotations

from checks.catalog import load_catalog
from scanner.model import Encryption, Ref, Unknown
from tests.test_catalog import res, run


def test_every_case_has_one_condition_and_an_encryption_spec() -> None:
    for name, spec in load_catalog().types.items():
        for case in spec.encryption.get("cases") or ():
            when = case["when"]
            assert len(when) == 1 and ("set" in when or ("equals" in when and len(when["equals"]) == 1)), name
            assert {"default", "flag", "handler", "keys", "not-applicable"} & set(case), name


def test_ssm_only_securestring_is_encrypted() -> None:
    facts = run(
        res("aws_ssm_parameter", "plain", {"name": "/a", "type": "String"}),
        res("aws_ssm_parameter", "secret", {"name": "/b", "type": "SecureString"}),
        res(
            "aws_ssm_parameter",
            "cmk",
            {"name": "/c", "type": "SecureString", "key_id": "arn:aws:kms:eu-west-1:1:key/k"},
        ),
        res("aws_ssm_parameter", "unknown", {"name": "/d", "type": Unknown("var.type has no value")}),
    )
    assert facts["aws_ssm_parameter.plain"].encryption is Encryption.NONE
    assert facts["aws_ssm_parameter.secret"].encryption is Encryption.PROVIDER
    assert facts["aws_ssm_parameter.cmk"].encryption is Encryption.CUSTOMER
    unknown = facts["aws_ssm_parameter.unknown"].encryption
    assert isinstance(unknown, Unknown) and "type is unknown" in unknown.reason
    assert 'type = "SecureString"' in facts["aws_ssm_parameter.plain"].encryption_fix["provider-managed"]


def test_firehose_with_a_stream_source_holds_nothing_at_rest() -> None:
    facts = run(
        res("aws_kinesis_firehose_delivery_stream", "direct", {"name": "a"}),
        res(
            "aws_kinesis_firehose_delivery_stream", "sse", {"name": "b", "server_side_encryption": [{"enabled": True}]}
        ),
        res(
            "aws_kinesis_firehose_delivery_stream",
            "stream",
            {"name": "c", "kinesis_source_configuration": [{"kinesis_stream_arn": Ref("aws_kinesis_stream.s", "arn")}]},
        ),
    )
    assert facts["aws_kinesis_firehose_delivery_stream.direct"].encryption is Encryption.NONE
    assert facts["aws_kinesis_firehose_delivery_stream.sse"].encryption is Encryption.PROVIDER
    stream = facts["aws_kinesis_firehose_delivery_stream.stream"]
    assert stream.encryption is None and "source Kinesis stream" in stream.encryption_source


def test_emr_reads_the_security_configuration_document() -> None:
    kms = {
        "EncryptionConfiguration": {
            "EnableAtRestEncryption": True,
            "AtRestEncryptionConfiguration": {
                "LocalDiskEncryptionConfiguration": {
                    "EncryptionKeyProviderType": "AwsKms",
                    "AwsKmsKey": "arn:aws:kms:eu-west-1:123456789012:key/k",
                }
            },
        }
    }
    custom = {
        "EncryptionConfiguration": {
            "EnableAtRestEncryption": True,
            "AtRestEncryptionConfiguration": {
                "LocalDiskEncryptionConfiguration": {"EncryptionKeyProviderType": "Custom"}
            },
        }
    }
    import json

    facts = run(
        res("aws_emr_security_configuration", "kms", {"name": "kms", "configuration": json.dumps(kms)}),
        res("aws_emr_security_configuration", "custom", {"name": "custom", "configuration": json.dumps(custom)}),
        res("aws_emr_security_configuration", "off", {"name": "off", "configuration": "{}"}),
        res(
            "aws_emr_cluster",
            "kms",
            {"name": "a", "security_configuration": Ref("aws_emr_security_configuration.kms", "name")},
        ),
        res("aws_emr_cluster", "custom", {"name": "b", "security_configuration": "custom"}),
        res("aws_emr_cluster", "off", {"name": "c", "security_configuration": "off"}),
        res("aws_emr_cluster", "none", {"name": "d"}),
        res("aws_emr_cluster", "elsewhere", {"name": "e", "security_configuration": "not-here"}),
        res("aws_ebs_encryption_by_default", "on", {"enabled": True}),
        res("aws_emr_cluster", "by_default", {"name": "f"}),
    )
    kms_cluster = facts["aws_emr_cluster.kms"]
    assert kms_cluster.encryption is Encryption.CUSTOMER
    assert [k.reference for k in kms_cluster.keys] == ["arn:aws:kms:eu-west-1:123456789012:key/k"]
    assert facts["aws_emr_cluster.custom"].encryption is Encryption.CUSTOMER
    # at-rest off in the document, and no document: the region's EBS default decides (on in eu-west-1 here)
    assert facts["aws_emr_cluster.off"].encryption is Encryption.PROVIDER
    assert facts["aws_emr_cluster.none"].encryption is Encryption.PROVIDER
    assert isinstance(facts["aws_emr_cluster.elsewhere"].encryption, Unknown)


def test_emr_without_security_configuration_or_ebs_default_is_unencrypted() -> None:
    facts = run(res("aws_emr_cluster", "none", {"name": "d"}))
    assert facts["aws_emr_cluster.none"].encryption is Encryption.NONE
    assert "no security configuration" in facts["aws_emr_cluster.none"].encryption_source


def test_secret_manager_automatic_true_is_automatic_replication() -> None:
    """`replication { automatic = true }` (google provider 4.x, Config Connector) places payloads anywhere."""
    from checks.locate import ANY_REGION

    facts = run(res("google_secret_manager_secret", "old", {"secret_id": "s", "replication": [{"automatic": True}]}))
    copies = facts["google_secret_manager_secret.old"].copies
    assert [(c.kind, getattr(c.location, "code", None)) for c in copies] == [("replica", ANY_REGION)]


def test_datastream_and_netapp_replication_copy_to_their_destinations() -> None:
    """A Datastream stream's BigQuery dataset template location and a NetApp replication's destination
    pool are copies; the stream's own key grades it (issue 15, batch 5)."""
    facts = run(
        res("google_netapp_storage_pool", "dest", {"name": "dest", "location": "us-west2"}),
        res(
            "google_netapp_volume_replication",
            "r",
            {
                "location": "europe-west1",
                "destination_volume_parameters": [{"storage_pool": Ref("google_netapp_storage_pool.dest", "id")}],
            },
        ),
        res(
            "google_datastream_stream",
            "s",
            {
                "location": "europe-west1",
                "customer_managed_encryption_key": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
                "destination_config": [
                    {
                        "bigquery_destination_config": [
                            {"source_hierarchy_datasets": [{"dataset_template": [{"location": "US"}]}]}
                        ]
                    }
                ],
            },
        ),
        res("google_datastream_stream", "plain", {"location": "europe-west1"}),
    )
    replication = facts["google_netapp_volume_replication.r"]
    assert [(c.kind, getattr(c.location, "code", None)) for c in replication.copies] == [("replica", "us-west2")]
    stream = facts["google_datastream_stream.s"]
    assert [(c.kind, getattr(c.location, "code", None)) for c in stream.copies] == [("sink", "US")]
    assert stream.encryption is Encryption.CUSTOMER
    assert facts["google_datastream_stream.plain"].encryption is Encryption.PROVIDER
    assert facts["google_datastream_stream.plain"].copies == []


def test_bigquery_job_defaults_to_us_and_is_graded_by_its_destination_key() -> None:
    """`location` defaults to US (provider docs); a destination_encryption_configuration key is customer-managed."""
    from tests.test_catalog import code

    facts = run(
        res("google_bigquery_job", "plain", {"job_id": "a", "query": [{"query": "SELECT 1"}]}),
        res(
            "google_bigquery_job",
            "cmek",
            {
                "job_id": "b",
                "location": "EU",
                "load": [{"destination_encryption_configuration": [{"kms_key_name": "projects/p/locations/eu/k"}]}],
            },
        ),
    )
    plain = facts["google_bigquery_job.plain"]
    assert code(plain.location) == "US" and plain.encryption is Encryption.PROVIDER
    assert facts["google_bigquery_job.cmek"].encryption is Encryption.CUSTOMER


def test_cluster_snapshot_copy_without_a_key_keeps_its_source_encryption() -> None:
    """CopyDBClusterSnapshot: no KmsKeyId means the source's key; with one the copy is re-encrypted (h-aws15)."""
    facts = run(
        res("aws_rds_cluster_snapshot_copy", "same", {"source_db_cluster_snapshot_identifier": "s"}),
        res(
            "aws_rds_cluster_snapshot_copy",
            "cmk",
            {"source_db_cluster_snapshot_identifier": "s", "kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"},
        ),
    )
    same = facts["aws_rds_cluster_snapshot_copy.same"]
    assert same.encryption is None and "source snapshot" in same.encryption_source
    assert facts["aws_rds_cluster_snapshot_copy.cmk"].encryption is Encryption.CUSTOMER


def test_qldb_aws_owned_key_literal_is_provider_managed() -> None:
    facts = run(
        res("aws_qldb_ledger", "owned", {"name": "a", "kms_key": "AWS_OWNED_KMS_KEY"}),
        res("aws_qldb_ledger", "default", {"name": "b"}),
        res("aws_qldb_ledger", "cmk", {"name": "c", "kms_key": "arn:aws:kms:eu-west-1:1:key/k"}),
    )
    assert facts["aws_qldb_ledger.owned"].encryption is Encryption.PROVIDER
    assert facts["aws_qldb_ledger.default"].encryption is Encryption.PROVIDER
    assert facts["aws_qldb_ledger.cmk"].encryption is Encryption.CUSTOMER


def test_keyspace_region_list_is_one_replica_per_region_and_export_lives_in_its_bucket() -> None:
    from tests.test_catalog import code

    facts = run(
        res(
            "aws_keyspaces_keyspace",
            "multi",
            {"name": "k", "replication_specification": [{"region_list": ["eu-west-1", "us-east-1"]}]},
        ),
        res("aws_s3_bucket", "target", {"bucket": "b"}, provider=None),
        res("aws_dynamodb_table_export", "x", {"s3_bucket": Ref("aws_s3_bucket.target", "bucket")}),
        res("aws_dynamodb_table_export", "elsewhere", {"s3_bucket": "not-scanned"}),
    )
    copies = facts["aws_keyspaces_keyspace.multi"].copies
    assert sorted((c.kind, code(c.location)) for c in copies) == [("replica", "eu-west-1"), ("replica", "us-east-1")]
    assert code(facts["aws_dynamodb_table_export.x"].location) == "eu-west-1"
    assert isinstance(facts["aws_dynamodb_table_export.elsewhere"].location, Unknown)


def test_workspace_is_encrypted_only_when_both_volumes_are() -> None:
    """WorkSpaces: root and user volumes are each off unless set; the desktop grades as its weaker one (h-aws15)."""
    facts = run(
        res("aws_workspaces_workspace", "both", {"root_volume_encryption_enabled": True,
                                                 "user_volume_encryption_enabled": True}),
        res("aws_workspaces_workspace", "user", {"user_volume_encryption_enabled": True}),
        res("aws_workspaces_workspace", "root", {"root_volume_encryption_enabled": True}),
        res("aws_workspaces_workspace", "unknown", {"user_volume_encryption_enabled": Unknown("var.enc"),
                                                    "root_volume_encryption_enabled": True}),
    )
    assert facts["aws_workspaces_workspace.both"].encryption is Encryption.PROVIDER
    assert facts["aws_workspaces_workspace.user"].encryption is Encryption.NONE
    assert facts["aws_workspaces_workspace.root"].encryption is Encryption.NONE
    assert isinstance(facts["aws_workspaces_workspace.unknown"].encryption, Unknown)


def test_spot_requests_and_launch_configurations_grade_every_block_device() -> None:
    facts = run(
        res("aws_spot_instance_request", "root_only", {"root_block_device": [{"encrypted": True}],
                                                       "ebs_block_device": [{"device_name": "/dev/sdb"}]}),
        res("aws_launch_configuration", "all", {"root_block_device": [{"encrypted": True}],
                                                "ebs_block_device": [{"device_name": "/dev/sdb", "encrypted": True}]}),
    )
    spot = facts["aws_spot_instance_request.root_only"]
    assert spot.encryption is Encryption.NONE and "ebs_block_device[0]" in spot.encryption_source
    assert facts["aws_launch_configuration.all"].encryption is Encryption.PROVIDER
    with_default = run(
        res("aws_ebs_encryption_by_default", "on", {"enabled": True}),
        res("aws_launch_configuration", "implicit", {}),
    )
    assert with_default["aws_launch_configuration.implicit"].encryption is Encryption.PROVIDER
