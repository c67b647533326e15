"""Shared plumbing for the test, demo and benchmark commands.

It finds the Odoo 19 that the running Python imports, starts a throwaway
PostgreSQL (or uses the one PGHOST/PGPORT/PGUSER/PGPASSWORD point at) and
creates databases with the addon installed.  When no Odoo 19 is importable (or
ODOO_SRC names a source tree), bootstrap.py sets up a project virtualenv first.
"""

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bootstrap

REPO = Path(__file__).resolve().parent.parent
ADDON = "customer_registry"


def die(message):
    sys.stderr.write(f"error: {message}\n")
    sys.exit(2)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def odoo_python():
    return os.environ.get("PYTHON") or sys.executable


def _imports_odoo(python):
    probe = "import odoo.release as r; print(r.version_info[0])"
    proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def check_odoo(need_tests=False):
    """Return the addons directories of Odoo 19, setting it up if needed (or die).

    $PYTHON if set, else the running Python if it imports Odoo, else (or when
    ODOO_SRC names a source tree) the project virtualenv, set up by bootstrap.py.
    Subprocesses then run with that Python (exported as $PYTHON).
    """
    if not os.environ.get("PYTHON") and (os.environ.get("ODOO_SRC") or not _imports_odoo(sys.executable)):
        os.environ["PYTHON"] = bootstrap.ensure(need_tests=need_tests, need_browser=need_tests)
    python = odoo_python()
    probe = "import odoo, odoo.release as r, sys; print(r.version_info[0]); print('\\n'.join(odoo.__path__))"
    proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        die(
            f"Odoo 19.0 is not importable by PYTHON={python}: unset PYTHON to let the command "
            "set up a project virtualenv with Odoo (see README.md), or install Odoo into that Python."
        )
    major, *odoo_dirs = proc.stdout.split()
    if major != "19":
        die(f"{python} imports Odoo {major}, this project needs Odoo 19.0.")
    return addons_path(odoo_dirs)


def run_under_odoo_python():
    """Re-run this command with the Python that imports Odoo (for in-process use)."""
    python = odoo_python()
    if os.path.abspath(python) != os.path.abspath(sys.executable) and os.environ.get("CR_REEXEC") != python:
        os.environ["CR_REEXEC"] = python
        os.execv(python, [python, *sys.argv])


def addons_path(odoo_dirs):
    """Odoo's addons: ODOO_ADDONS_PATH, else beside a source checkout."""
    configured = os.environ.get("ODOO_ADDONS_PATH")
    paths = configured.split(",") if configured else []
    if not paths:
        for odoo_dir in odoo_dirs:
            for candidate in (Path(odoo_dir).parent / "addons", Path(odoo_dir) / "addons"):
                if (candidate / "point_of_sale" / "__manifest__.py").is_file():
                    paths.append(str(candidate))
                    break
    if not any(Path(p, "point_of_sale", "__manifest__.py").is_file() for p in paths):
        die(
            "Odoo's addons (point_of_sale among them) were not found beside the "
            "importable odoo package; set ODOO_ADDONS_PATH to Odoo's addons directory."
        )
    return [str(REPO)] + paths


def check_python_module(module, package):
    python = odoo_python()
    spec_probe = f"import importlib.util,sys; sys.exit(importlib.util.find_spec('{module}') is None)"
    if subprocess.run([python, "-c", spec_probe], check=False).returncode:
        die(f"{python} lacks the Python package '{package}': pip install {package}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _installed_pg_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


def pg_bindir():
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    bindir = _installed_pg_bindir()
    if bindir is None:
        bootstrap.ensure_debian_package("postgresql")  # apt-get as root, else dies saying what to install
        bindir = _installed_pg_bindir()
    if bindir is None:
        die("PostgreSQL server binaries not found: apt-get install postgresql (or set PG_BINDIR).")
    return bindir


class Postgres:
    """Connection settings; `throwaway()` starts a private server."""

    def __init__(self, host, port, user, password=None):
        self.host, self.port, self.user, self.password = host, str(port), user, password

    def odoo_args(self):
        args = [f"--db_host={self.host}", f"--db_port={self.port}", f"--db_user={self.user}"]
        if self.password:
            args.append(f"--db_password={self.password}")
        return args

    def env(self):
        env = dict(os.environ, PGHOST=self.host, PGPORT=self.port, PGUSER=self.user)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def run(self, *args, **kwargs):
        return subprocess.run(list(args), env=self.env(), check=True, **kwargs)

    def psql(self, sql, dbname="postgres"):
        return self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbname, "-c", sql)

    def drop(self, dbname):
        subprocess.run(
            ["dropdb", "--if-exists", "--force", dbname],
            check=True,
            env=dict(self.env(), PGOPTIONS="-c client_min_messages=warning"),
        )


def _as_postgres_user():
    """initdb and postgres refuse root: run them as the 'postgres' account."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        die("running as root needs the 'postgres' account (apt-get install postgresql)")

    def demote():
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"preexec_fn": demote, "account": account}


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def stop_on_signals():
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP unwind the command, so that what it
    started is stopped.  A shell starting a command in the background (`cmd &`
    in a script) makes it ignore SIGINT; Python then keeps ignoring it, so the
    handler is installed explicitly."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)


@contextlib.contextmanager
def postgres():
    """The PostgreSQL from PGHOST if set, else a throwaway one stopped on exit."""
    if os.environ.get("PGHOST"):
        yield Postgres(
            os.environ["PGHOST"],
            os.environ.get("PGPORT", "5432"),
            os.environ.get("PGUSER") or pwd.getpwuid(os.getuid()).pw_name,
            os.environ.get("PGPASSWORD"),
        )
        return
    bindir = pg_bindir()
    demote = _as_postgres_user()
    account = demote.pop("account", None)
    datadir = tempfile.mkdtemp(prefix="customer_registry_pg_")
    if account:
        os.chown(datadir, account.pw_uid, account.pw_gid)
    port = free_port()
    logfile = os.path.join(datadir, "server.log")
    quiet = {"stdout": subprocess.DEVNULL, "cwd": "/"}
    try:
        subprocess.run(
            [
                f"{bindir}/initdb",
                "-D",
                f"{datadir}/data",
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            **quiet,
            **demote,
        )
        options = f"-h 127.0.0.1 -p {port} -k {datadir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(
            [f"{bindir}/pg_ctl", "-D", f"{datadir}/data", "-l", logfile, "-o", options, "-w", "start"],
            check=True,
            **quiet,
            **demote,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(datadir, ignore_errors=True)
        die(f"could not start a throwaway PostgreSQL: {exc}")
    log(f"throwaway PostgreSQL on 127.0.0.1:{port} ({datadir})")
    # A CI timeout or `kill` sends SIGTERM: unwind so the server is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = Postgres("127.0.0.1", port, "postgres")
    # Odoo refuses to connect as 'postgres'; give it a superuser of its own.
    server.psql("CREATE ROLE odoo LOGIN SUPERUSER")
    try:
        yield Postgres("127.0.0.1", port, "odoo")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        subprocess.run(
            [f"{bindir}/pg_ctl", "-D", f"{datadir}/data", "-m", "immediate", "-w", "stop"],
            check=False,
            **quiet,
            **demote,
        )
        shutil.rmtree(datadir, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log("PostgreSQL stopped")


def odoo_command(pg, addons, *args, command="server"):
    return [odoo_python(), "-m", "odoo", command, f"--addons-path={','.join(addons)}", *pg.odoo_args(), *args]


def run_odoo_once(pg, addons, dbname, *args):
    """Run Odoo on `dbname` until it has loaded (installed or updated) and stop."""
    cmd = odoo_command(
        pg,
        addons,
        "-d",
        dbname,
        *args,
        "--stop-after-init",
        "--log-level=warn",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
        f"--http-port={free_port()}",
    )
    subprocess.run(cmd, check=True, cwd=REPO)


def install(pg, addons, dbname, modules=ADDON, demo=False, extra=()):
    """Create `dbname` with `modules` installed (Odoo prints its own progress)."""
    pg.drop(dbname)
    log(f"installing {modules} into {dbname}")
    started = time.monotonic()
    run_odoo_once(pg, addons, dbname, "-i", modules, *(["--with-demo"] if demo else []), *extra)
    log(f"installed in {time.monotonic() - started:.0f} s")


def update(pg, addons, dbname, modules=ADDON):
    log(f"updating {modules} in {dbname}")
    run_odoo_once(pg, addons, dbname, "-u", modules)


def source_key(*roots):
    """A short hash of the files under `roots` (the addon, a benchmark): databases
    built from them are named with it, so that changed code never reuses them."""
    digest = hashlib.sha256()
    for root in map(Path, roots):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(f"{path.relative_to(root.parent)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def databases_like(pg, prefix):
    out = subprocess.run(
        ["psql", "-X", "-At", "-d", "postgres", "-c", "SELECT datname FROM pg_database ORDER BY 1"],
        env=pg.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in out.split() if name.startswith(prefix)]


def database_exists(pg, dbname):
    out = subprocess.run(
        ["psql", "-X", "-At", "-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'"],
        env=pg.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip() == "1"


@contextlib.contextmanager
def odoo_registry(pg, addons, dbname):
    """Odoo's registry of `dbname`, loaded in this process (for benchmarks)."""
    # Imported here: the commands only load Odoo in-process when a benchmark asks.
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(
        [
            f"--addons-path={','.join(addons)}",
            *pg.odoo_args(),
            "-d",
            dbname,
            "--log-level=warn",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
        ]
    )
    registry = Registry(dbname)
    try:
        yield registry
    finally:
        odoo.sql_db.close_all()
