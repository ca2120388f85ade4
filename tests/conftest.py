"""Shared test set-up: paths, and a scan helper that goes through the real engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
BUNDLED_POLICY = FIXTURES / "residency.yaml"

if str(REPO) not in sys.path:  # tests run against the working tree, installed or not
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
