"""Tests of the commands in tools/ (bootstrap, demo, dev-postgres, benchmarks'
templates).  Run by .ci/run with plain pytest:
`python3 -m pytest -p no:odoo tools/tests` (pytest-odoo would try to load a database)."""

import os
import sys

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOOLS)
import harness


@pytest.fixture(scope="session")
def pg():
    """The PostgreSQL that PGHOST names, else a throwaway one for the session."""
    with harness.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def addons():
    return harness.check_odoo()
