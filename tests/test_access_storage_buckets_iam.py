"""RES006 on terraform-google-modules/terraform-google-iam's storage_buckets_iam submodule (issue 18), called as
its examples/storage_bucket does, on the real parsed fixtures under
fixtures/terraform/access/gcp_storage_buckets_iam/ (a minimised copy of the module and its helper).

The module's helper expands a role -> members map over a list of buckets into one
``google_storage_bucket_iam_member`` per (bucket, role, member); RES006 must follow that expansion to the EU
buckets of the calling root and judge each member by the policy's ``principals.gcp`` map.
"""

from __future__ import annotations

from tests.conftest import FIXTURES
from tests.test_access_rule import _scan

SBI = FIXTURES / "terraform" / "access" / "gcp_storage_buckets_iam"


def test_us_members_fail_on_each_bucket_and_eu_members_pass() -> None:
    found = _scan(SBI)
    assert all(f.category.value == "access" and f.blocking for f in found)
    pairs = {(f.resource, f.message.split(": ", 1)[1].split(",", 1)[0]) for f in found}
    assert pairs == {(f"google_storage_bucket.{b}", m) for b in ("one", "two") for m in
                     ("serviceAccount:loader@us-analytics.iam.gserviceaccount.com", "user:bob@us.example.com")}
    assert len(found) == 8  # two roles each: legacyBucketReader and legacyBucketWriter are separate grants
    assert not any("example.eu" in f.message or "eu-prod.iam" in f.message for f in found)  # EU members allowed
    assert {f.file for f in found} == {"fixtures/terraform/access/gcp_storage_buckets_iam/modules/"
                                       "storage_buckets_iam/main.tf"}
