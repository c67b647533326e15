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
    assert "bootstrap 2/5: virtualenv: created" in proc.stdout, "the steps before are done and shown"
    assert f"error: bootstrap step 3/5 'Odoo source' failed: ODOO_SRC={not_odoo} is not an Odoo source tree" in (
        proc.stderr
    )
    assert "run the same command again" in proc.stderr
    # Retrying keeps the finished steps.
    again = bootstrap(tmp_path, ODOO_SRC=str(not_odoo))
    assert "bootstrap 2/5: virtualenv: reusing" in again.stdout


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_odoo_is_cloned_shallow_at_the_pinned_revision_and_reused(tmp_path, monkeypatch):
    """The clone of Odoo's repository, from a local repository standing in for it
    (the machines here reach no git host): same code, another address."""
    import bootstrap

    upstream = tmp_path / "odoo-upstream"
    (upstream / "odoo").mkdir(parents=True)
    (upstream / "requirements.txt").write_text("")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    git("init", "-q", "-b", "19.0", cwd=upstream)
    commits = []
    for version in ("19.0a", "19.0"):
        (upstream / "odoo" / "release.py").write_text(f"version = {version!r}\n")
        git("add", "-A", cwd=upstream)
        git(*identity, "commit", "-q", "-m", version, cwd=upstream)
        commits.append(git("rev-parse", "HEAD", cwd=upstream))
    clone = tmp_path / "clone"
    monkeypatch.delenv("ODOO_SRC", raising=False)
    monkeypatch.setenv("CR_ODOO_CLONE", str(clone))
    monkeypatch.setattr(bootstrap, "ODOO_REPOSITORY", upstream.as_uri())

    # Pinned to the older commit of branch 19.0: that commit, and only it (shallow).
    monkeypatch.setattr(bootstrap, "ODOO_REVISION", commits[0])
    src, outcome = bootstrap.odoo_source()
    assert src == clone
    assert f"at commit {commits[0]}" in outcome
    assert (clone / "odoo" / "release.py").read_text() == "version = '19.0a'\n"
    assert git("rev-list", "--count", "HEAD", cwd=clone) == "1"
    assert bootstrap.odoo_source()[1].startswith("reusing"), "a second run reuses the clone"

    # The branch: its newest commit, printed so that it can be pinned.
    monkeypatch.setattr(bootstrap, "ODOO_REVISION", "19.0")
    src, outcome = bootstrap.odoo_source()
    assert f"cloned 19.0 at commit {commits[1]} (pin it with ODOO_REVISION={commits[1]})" == outcome
    assert (clone / "odoo" / "release.py").read_text() == "version = '19.0'\n"
