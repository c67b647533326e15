import os
import re
import shutil
import signal
import subprocess
import sys

import harness
import pytest

TOOLS = harness.REPO / "tools"


def test_dev_postgres_stops_on_sigint_when_started_in_the_background():
    """`tools/dev-postgres &` in a script starts it with SIGINT ignored: Ctrl-C
    (or kill -INT) must still stop it and its server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    # `trap "" INT` leaves SIGINT ignored across exec, as `cmd &` in a script does.
    proc = subprocess.Popen(
        ["bash", "-c", 'trap "" INT; exec "$0" "$1"', sys.executable, str(TOOLS / "dev-postgres")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        started = proc.stdout.readline()
        datadir = re.search(r"\((/[^)]+)\)", started).group(1)
        assert proc.stdout.readline().startswith("export PGHOST=")
        assert os.path.isdir(datadir)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert not os.path.exists(datadir), "the server's directory is left behind"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)


def test_demo_refuses_to_drop_a_database_it_did_not_make(pg):
    dbname = f"cr_not_a_demo_{os.getpid()}"
    pg.run("createdb", dbname)
    try:
        pg.psql("CREATE TABLE precious (id int)", dbname=dbname)
        proc = subprocess.run(
            [sys.executable, str(TOOLS / "demo"), "--db", dbname, "--port", str(harness.free_port())],
            env=pg.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"database {dbname} exists and was not made by tools/demo" in proc.stderr
        assert "--force" in proc.stderr
        pg.psql("SELECT * FROM precious", dbname=dbname)  # still there
    finally:
        pg.drop(dbname)


def test_benchmark_templates_are_named_after_the_code_they_were_built_from(tmp_path):
    sys.path.insert(0, str(harness.REPO / "benchmarks"))
    import ledger

    addon = tmp_path / harness.ADDON
    shutil.copytree(harness.REPO / harness.ADDON, addon, ignore=shutil.ignore_patterns("__pycache__"))
    before = harness.source_key(addon)
    assert harness.source_key(addon) == before, "the key must not depend on the time or the run"
    manifest = addon / "__manifest__.py"
    manifest.write_text(manifest.read_text() + "\n")
    assert harness.source_key(addon) != before, "a changed addon must not reuse a template"
    assert ledger.template_name("registry").endswith(
        "_" + harness.source_key(harness.REPO / harness.ADDON, harness.REPO / "benchmarks" / "ledger.py")
    )


@pytest.mark.parametrize("script", [".ci/run"])
def test_ci_installs_into_and_runs_with_the_python_tools_test_uses(script):
    """tools/test runs Odoo with $PYTHON (else the Python running it): CI must
    install the test requirements into that same Python and lint and test with it."""
    text = (harness.REPO / script).read_text()
    commands = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert 'PY="${PYTHON:-python3}"' in commands
    bare = [line for line in commands if re.search(r"(^|[;|&(] *)python3 ", line)]
    assert not bare, f"commands using python3 instead of $PY: {bare}"
