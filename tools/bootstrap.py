"""Set up what tools/test, tools/demo and benchmarks/run need on a fresh machine, once.

Used when no Odoo 19 is importable by the Python running the command (or when
ODOO_SRC names a source tree):

1. Debian packages (PostgreSQL, Chromium, the headers that python-ldap and
   psycopg2 compile against, git, venv): installed with apt-get when run as
   root, else one line saying what to install;
2. a project-local virtualenv (`.venv` in the repository, CR_VENV to move it);
   nothing is ever installed into the system Python;
3. Odoo 19.0: the source tree ODOO_SRC names, else a shallow clone of
   ODOO_REPOSITORY at ODOO_REVISION into `.odoo` in the repository (CR_ODOO_CLONE
   to put it elsewhere);
4. Odoo's requirements, with the constraint 'setuptools<70' (some of its pinned
   packages build with pkg_resources), the optional packages the demo needs
   (ODOO_EXTRAS), and Odoo made importable in the virtualenv;
5. the addon's own requirements (requirements.txt: a cryptography newer than
   Odoo's pin for Python 3.11, and the pyOpenSSL and urllib3 that go with it);
6. the test requirements (tools/test and CI only).

Each finished step is recorded in the virtualenv, so a second run reuses them in
a second or two; a failing step says which it was, and running the command
again retries from there.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Odoo's official source. ODOO_REVISION is the pinned revision: a branch name or
# a commit of branch 19.0; override it with the environment variable of the same
# name (e.g. ODOO_REVISION=<commit> to reproduce a run). The commit a clone got is
# printed and recorded in .odoo/ so that it can be pinned.
ODOO_REPOSITORY = os.environ.get("ODOO_REPOSITORY", "https://github.com/odoo/odoo.git")
ODOO_REVISION = os.environ.get("ODOO_REVISION", "19.0")

# Some of Odoo 19's pinned requirements (e.g. on Python 3.11) build with pkg_resources.
PIP_CONSTRAINTS = "setuptools<70\n"

MIN_PYTHON = (3, 11)  # as pyproject.toml declares

# Optional Python packages of Odoo that the demo needs: Norway's localisation
# brings account_peppol, which imports phonenumbers.
ODOO_EXTRAS = ["phonenumbers"]

# Debian package -> how to tell it is there.
DEBIAN_PACKAGES = {
    "postgresql": "initdb",  # server binaries; the tools start their own throwaway server
    "chromium": "chromium",  # browser tours (tools/test)
    "git": "git",  # cloning Odoo (not needed with ODOO_SRC)
    "python3-venv": None,  # the virtualenv (ensurepip)
    "python3-dev": None,  # headers for the packages below
    "build-essential": None,
    "libpq-dev": None,  # psycopg2 builds from source
    "libldap2-dev": None,  # python-ldap builds from source
    "libsasl2-dev": None,
}


class StepFailed(Exception):
    pass


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def venv_dir():
    return Path(os.environ.get("CR_VENV") or REPO / ".venv")


def venv_python(venv=None):
    return str((venv or venv_dir()) / "bin" / "python")


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None


def _run(cmd, **kwargs):
    subprocess.run(cmd, check=True, **kwargs)


def _debian_missing(packages):
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for package in packages:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in proc.stdout:
            missing.append(package)
    return missing


def system_packages(need_browser, need_git):
    """apt-get install what is missing as root; else say what to install."""
    wanted = [p for p in DEBIAN_PACKAGES if (p != "chromium" or need_browser) and (p != "git" or need_git)]
    return apt_install(_debian_missing(wanted))


def apt_install(missing):
    if not missing:
        return "present"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StepFailed(f"missing system packages; run: sudo apt-get install {' '.join(missing)}")
    log(f"apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, stdout=subprocess.DEVNULL)
    return f"installed {' '.join(missing)}"


def ensure_debian_package(package):
    """Install one Debian package with apt-get when root (any Odoo, bootstrapped or not), else die saying how."""
    try:
        apt_install([package])
    except StepFailed as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(f"error: apt-get install {package} failed ({exc}); run it again or install it by hand\n")
        sys.exit(2)


def odoo_source():
    """The Odoo source tree: ODOO_SRC, else a shallow clone at ODOO_REVISION in .odoo."""
    if os.environ.get("ODOO_SRC"):
        src = Path(os.environ["ODOO_SRC"]).resolve()
        if not (src / "odoo" / "release.py").is_file() or not (src / "requirements.txt").is_file():
            raise StepFailed(f"ODOO_SRC={src} is not an Odoo source tree (odoo/release.py, requirements.txt)")
        return src, f"ODOO_SRC {src}"
    src = Path(os.environ.get("CR_ODOO_CLONE") or REPO / ".odoo")
    stamp = src / ".customer_registry-revision"
    if stamp.is_file() and stamp.read_text().split()[0] == ODOO_REVISION:
        return src, f"reusing {src} ({stamp.read_text().split()[1]})"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    git = ["git", "-C", str(src)]
    _run([*git, "init", "-q"])
    _run([*git, "fetch", "--depth", "1", ODOO_REPOSITORY, ODOO_REVISION])
    _run([*git, "-c", "advice.detachedHead=false", "checkout", "-q", "FETCH_HEAD"])
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    stamp.write_text(f"{ODOO_REVISION} {commit}\n")
    return src, f"cloned {ODOO_REVISION} at commit {commit} (pin it with ODOO_REVISION={commit})"


def _state(venv):
    path = venv / "customer_registry-bootstrap.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _save_state(venv, state):
    (venv / "customer_registry-bootstrap.json").write_text(json.dumps(state, indent=1))


def _pip(python, *args):
    constraints = Path(python).parent.parent / "pip-constraints.txt"
    constraints.write_text(PIP_CONSTRAINTS)
    # PIP_CONSTRAINT (not -c) so that the isolated build environments get it too.
    env = dict(os.environ, PIP_CONSTRAINT=str(constraints), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    _run([python, "-m", "pip", "install", "-q", "--progress-bar", "off", *args], env=env)


def ensure(need_tests=False, need_browser=False):
    """Return the Python of a project virtualenv with Odoo 19 (and the test requirements)."""
    venv = venv_dir()
    python = venv_python(venv)
    state = _state(venv) if Path(python).exists() else {}
    odoo_src_env = os.environ.get("ODOO_SRC")
    wanted_src = str(Path(odoo_src_env).resolve()) if odoo_src_env else f"clone:{ODOO_REVISION}"
    test_requirements = _sha256(REPO / "requirements-test.txt")
    addon_requirements = _sha256(REPO / "requirements.txt")
    if (
        state.get("odoo_from") == wanted_src
        and state.get("odoo_requirements")
        and state.get("addon_requirements") == addon_requirements
        and (not need_tests or state.get("test_requirements") == test_requirements)
    ):
        return python
    started = time.monotonic()
    steps = [
        ("system packages", lambda: system_packages(need_browser, need_git=not odoo_src_env)),
        ("virtualenv", lambda: _make_venv(venv)),
        ("Odoo source", None),
        ("Odoo requirements", None),
        ("addon requirements", None),
        ("test requirements", None),
    ]
    if not need_tests:
        steps.pop()
    total = len(steps)
    src = None
    for number, (name, action) in enumerate(steps, 1):
        log(f"bootstrap {number}/{total}: {name}")
        try:
            if name == "Odoo source":
                src, outcome = odoo_source()
            elif name == "Odoo requirements":
                outcome = _odoo_requirements(python, venv, src, state, wanted_src)
            elif name == "addon requirements":
                outcome = _project_requirements(python, venv, state, "addon_requirements", "requirements.txt")
            elif name == "test requirements":
                outcome = _project_requirements(python, venv, state, "test_requirements", "requirements-test.txt")
            else:
                outcome = action()
        except (StepFailed, subprocess.CalledProcessError, OSError) as exc:
            detail = exc if isinstance(exc, StepFailed) else f"{exc} (see the output above)"
            sys.stderr.write(
                f"error: bootstrap step {number}/{total} '{name}' failed: {detail}\n"
                f"Fix the cause and run the same command again: finished steps are kept "
                f"(remove {venv} to start over).\n"
            )
            sys.exit(2)
        log(f"bootstrap {number}/{total}: {name}: {outcome}")
    log(f"bootstrap done in {time.monotonic() - started:.0f} s; virtualenv {venv}")
    return python


def _project_requirements(python, venv, state, key, filename):
    """pip install -r one of the repository's requirements files, unless the record says it is in."""
    digest = _sha256(REPO / filename)
    if state.get(key) == digest:
        return "present"
    _pip(python, "-r", str(REPO / filename))
    state[key] = digest
    _save_state(venv, state)
    return "installed"


def _make_venv(venv):
    if Path(venv_python(venv)).exists():
        return f"reusing {venv}"
    if sys.version_info[:2] < MIN_PYTHON:
        raise StepFailed(f"Python 3.11 or newer is needed, {sys.executable} is {sys.version.split()[0]}")
    _run([sys.executable, "-m", "venv", str(venv)])
    return f"created {venv} with Python {sys.version.split()[0]}"


def _odoo_requirements(python, venv, src, state, wanted_src):
    requirements = src / "requirements.txt"
    digest = f"{wanted_src} {_sha256(requirements)}"
    if state.get("odoo_requirements") != digest:
        log("  pip install -r requirements.txt: compiles psycopg2 and python-ldap (about a minute)")
        _pip(python, "-r", str(requirements), *ODOO_EXTRAS)
        # Odoo importable from its source tree, as `pip install -e` would make it,
        # without writing into that tree (which may be read-only).
        purelib = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(purelib, "customer_registry-odoo.pth").write_text(f"{src}\n")
        state.update(odoo_from=wanted_src, odoo_requirements=digest, odoo_src=str(src))
        state.pop("addon_requirements", None)  # Odoo's pins put back its cryptography: upgrade it again
        _save_state(venv, state)
        outcome = f"installed from {requirements}"
    else:
        outcome = "present"
    probe = "import odoo.release as r; print(r.version)"
    version = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    if version.returncode or not version.stdout.startswith("19."):
        raise StepFailed(f"the virtualenv does not import Odoo 19 from {src}: {version.stderr.strip()[-300:]}")
    return f"{outcome}; Odoo {version.stdout.strip()} from {src}"


if __name__ == "__main__":
    # `python3 tools/bootstrap.py [--tests]`: set up only, print the virtualenv's Python.
    print(ensure(need_tests="--tests" in sys.argv, need_browser="--tests" in sys.argv))
