"""RES006 findings point at the statement that grants (issue 18), on real parsed fixtures.

A grant built from ``data "aws_iam_policy_document"`` points at the ``statement`` block (a dynamic one at its
``dynamic`` block; a statement merged in from ``source_policy_documents`` at its own block), even when the data
source is in another file; ``data "google_iam_policy"`` at its ``binding``; a heredoc at the statement's line
inside it when the rendered text keeps the heredoc's lines; ``jsonencode({...})`` at the argument (the parser
keeps no line for an object's items). The finding's resource stays the store (or the grant).
"""

from __future__ import annotations

import pickle
from pathlib import Path

from tests.conftest import FIXTURES
from tests.test_access_rule import _scan

ACCESS = FIXTURES / "terraform" / "access"
LINES = ACCESS / "statement_lines"


def _where(findings: list) -> set[tuple[str, int, str, str]]:
    return {(Path(f.file).name, f.line, f.category.value, f.resource) for f in findings}


def test_data_source_statements_in_another_file() -> None:
    found = _scan(LINES / "failing")
    assert _where(found) == {
        ("policies.tf", 19, "access", "aws_s3_bucket.shared"),  # merged in from source_policy_documents
        ("policies.tf", 33, "unresolved", "aws_s3_bucket.shared"),  # the dynamic statement's block
        ("policies.tf", 52, "access", "google_storage_bucket.events"),  # the second binding
    }
    us = next(f for f in found if f.line == 19)
    assert "Sid UsAuditor" in us.message and "statement_lines/failing/policies.tf:19" in us.message
    assert "aws_s3_bucket_policy.shared" in us.message  # the grant is still named


def test_passing_twin_has_no_finding() -> None:
    assert _scan(LINES / "passing") == []


def test_heredoc_statement_line_and_jsonencode_argument_line() -> None:
    found = _scan(ACCESS / "failing")
    by_resource = {(f.resource, f.category.value): f.line for f in found if f.file.endswith("failing/main.tf")}
    assert by_resource[("aws_s3_bucket.vendor", "unresolved")] == 88  # "Statement": [{ inside the heredoc
    assert by_resource[("aws_s3_bucket.exports", "access")] == 67  # policy = jsonencode({


def test_heredoc_whose_interpolation_adds_lines_falls_back_to_the_argument(tmp_path: Path) -> None:
    src = (ACCESS / "failing" / "main.tf").read_text()
    src = src.replace('"Version": "2012-10-17",', '"Version": "${join("\\n", ["2012-10-17"])}",\n${local.pad}')
    src += '\nlocals {\n  pad = "\\n\\n"\n}\n'
    (tmp_path / "main.tf").write_text(src)
    vendor = [f for f in _scan(tmp_path, ACCESS / "residency.yaml") if f.resource == "aws_s3_bucket.vendor"]
    assert [f.line for f in vendor] == [85]  # policy = <<-POLICY


def test_policy_text_keeps_its_lines_through_pickle() -> None:
    """The parse cache and the worker pipes pickle loaded values: the lines must survive the trip."""
    from scanner.loaders.policy_docs import PolicyText, statement_lines

    text = PolicyText('{"Statement":[]}', [("a.tf", 3), None])
    back = pickle.loads(pickle.dumps(text, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == text and statement_lines(back) == (("a.tf", 3), None)
