import os
import subprocess
import sys

import harness


def bootstrap(tmp_path, **env):
    return subprocess.run(
        [sys.executable, str(harness.REPO / "tools" / "bootstrap.py")],
        env={**os.environ, "CR_VENV": str(tmp_path / "venv"), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_failing_step_is_named_with_how_to_retry(tmp_path):
    not_odoo = tmp_path / "not-odoo"
    not_odoo.mkdir()
    proc = bootstrap(tmp_path, ODOO_SRC=str(not_odoo))
    assert proc.returncode == 2
    assert "bootstrap 2/4: virtualenv: created" in proc.stdout, "the steps before are done and shown"
    assert f"error: bootstrap step 3/4 'Odoo source' failed: ODOO_SRC={not_odoo} is not an Odoo source tree" in (
        proc.stderr
    )
    assert "run the same command again" in proc.stderr
    # Retrying keeps the finished steps.
    again = bootstrap(tmp_path, ODOO_SRC=str(not_odoo))
    assert "bootstrap 2/4: virtualenv: reusing" in again.stdout
