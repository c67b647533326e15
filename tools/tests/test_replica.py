"""With Odoo's db_replica_host set, the retention reports, the dashboard and segment counts
read from a PostgreSQL streaming replica, not from the primary.

The test starts its own primary and a hot standby made from it with `pg_basebackup -R`
(both on loopback, as the `postgres` account when run as root, as tools/harness.py does),
installs the addon on the primary, and runs Odoo with `--db_replica_host`.  Both servers log
every statement while the screens are read through JSON-RPC as a cashier would read them:
the reports' queries must be in the replica's log and in none of the primary's.
"""

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar

import harness
import pytest

DB = "cr_replica"
# The reports are SQL views named by their table in the queries Odoo sends.
REPORT_TABLES = ("customer_kpi_report", "customer_metrics_report", "customer_cohort_report")

SEED_SCRIPT = r"""
from datetime import datetime, timedelta

from odoo import Command

company = env.company
company.partner_id.tz = "UTC"
env["account.journal"].create({"name": "Bank", "type": "bank", "code": "BKR", "company_id": company.id})
config = env["pos.config"].create({"name": "Replica Shop"})
session = env["pos.session"].create({"config_id": config.id})
members = env["res.partner"].create(
    [{"name": f"Member {n}", "is_registry_member": True, "zip": "5003"} for n in range(3)]
)
now = datetime.now().replace(microsecond=0)
for n, member in enumerate(members):
    for days in range(n + 1):  # member 0 buys once, member 1 twice, member 2 three times
        env["pos.order"].create({
            "session_id": session.id, "partner_id": member.id, "date_order": now - timedelta(days=40 * days),
            "amount_total": 50.0, "amount_tax": 0.0, "amount_paid": 50.0, "amount_return": 0.0, "state": "paid",
        })
segment = env["customer.segment"].create({"name": "Twice or more", "min_orders": 2})
env["res.users"].create({
    "name": "Replica Cashier", "login": "replica_cashier", "password": "replica_cashier",
    "group_ids": [Command.link(env.ref(xmlid).id) for xmlid in ("base.group_user", "point_of_sale.group_pos_user")],
})
print("SEED " + str(segment.id) + " " + str(env.ref("customer_registry.spreadsheet_dashboard_members").id))
env.cr.commit()
"""


class Server:
    """A PostgreSQL server of this test: its data directory, port and statement log."""

    def __init__(self, root, name):
        self.datadir = os.path.join(root, name)
        self.logfile = os.path.join(root, f"{name}.log")
        self.port = harness.free_port()

    def log_text(self, offset=0):
        with open(self.logfile, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            return log.read()

    def log_size(self):
        return os.path.getsize(self.logfile)


def _run(args, demote, **kwargs):
    return subprocess.run(args, check=True, cwd="/", capture_output=True, text=True, **demote, **kwargs)


def _start(bindir, server, demote, *settings):
    options = f"-h 127.0.0.1 -p {server.port} -k {os.path.dirname(server.datadir)} -c fsync=off"
    options += "".join(f" -c {setting}" for setting in settings)
    _run([f"{bindir}/pg_ctl", "-D", server.datadir, "-l", server.logfile, "-o", options, "-w", "start"], demote)


def _sql(server, sql, dbname="postgres"):
    return subprocess.run(
        ["psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", dbname, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def replicated():
    """(primary, replica): a primary and its streaming hot standby, stopped afterwards."""
    bindir = harness.pg_bindir()
    demote = harness._as_postgres_user()
    account = demote.pop("account", None)
    root = tempfile.mkdtemp(prefix="customer_registry_replica_")
    if account:
        os.chown(root, account.pw_uid, account.pw_gid)
    primary, replica = Server(root, "primary"), Server(root, "replica")
    started = []
    try:
        _run([f"{bindir}/initdb", "-D", primary.datadir, "-U", "postgres", "-A", "trust", "-E", "UTF8"], demote)
        _start(bindir, primary, demote, "wal_level=replica", "max_wal_senders=4")
        started.append(primary)
        _sql(primary, "CREATE ROLE odoo LOGIN SUPERUSER")
        _run(
            [f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", replica.datadir, "-R", "-X", "stream"],
            demote,
        )  # fmt: skip
        _start(bindir, replica, demote, "hot_standby=on", "log_statement=all")
        started.append(replica)
        assert _sql(replica, "SELECT pg_is_in_recovery()") == "t", "the replica is a hot standby"
        yield primary, replica
    finally:
        for server in reversed(started):
            subprocess.run(
                [f"{bindir}/pg_ctl", "-D", server.datadir, "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
                cwd="/",
                **demote,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_replayed(primary, replica, timeout=60):
    target = _sql(primary, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
            return
        time.sleep(0.2)
    pytest.fail("the replica did not catch up with the primary")


class Client:
    """JSON-RPC as the web client sends it, with the session cookie."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def rpc(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(self.base + path, body, {"Content-Type": "application/json"})
        with self.opener.open(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def call(self, model, method, *args, route="call_kw", **kwargs):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.rpc(f"/web/dataset/{route}/{model}/{method}", params)

    def get(self, path):
        with self.opener.open(self.base + path, timeout=60) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def _odoo(primary, replica, addons):
    port = harness.free_port()
    pg = harness.Postgres("127.0.0.1", primary.port, "odoo")
    server = subprocess.Popen(
        harness.odoo_command(
            pg, addons, "-d", DB, f"--db-filter=^{DB}$", "--db_replica_host=127.0.0.1",
            f"--db_replica_port={replica.port}", "--http-interface=127.0.0.1", f"--http-port={port}",
            "--max-cron-threads=0", "--log-level=warn",
        ),
        cwd=harness.REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/web/health", timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Odoo did not start")
                time.sleep(0.5)
        yield Client(port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_reports_dashboard_and_segment_counts_read_from_the_replica(replicated, addons):
    primary, replica = replicated
    pg = harness.Postgres("127.0.0.1", primary.port, "odoo")
    harness.install(pg, addons, DB)
    seed = subprocess.run(
        harness.odoo_command(pg, addons, "-d", DB, "--no-http", "--log-level=warn", command="shell"),
        input=SEED_SCRIPT,
        capture_output=True,
        text=True,
        check=False,
        cwd=harness.REPO,
    )
    line = next((row for row in seed.stdout.splitlines() if row.startswith("SEED ")), None)
    assert line, seed.stdout + seed.stderr
    segment_id, dashboard_id = map(int, line.split()[1:])
    # From here on the primary logs every statement too.
    _sql(primary, "ALTER SYSTEM SET log_statement = 'all'")
    _sql(primary, "SELECT pg_reload_conf()")
    _wait_replayed(primary, replica)

    with _odoo(primary, replica, addons) as client:
        client.rpc("/web/session/authenticate", {"db": DB, "login": "replica_cashier", "password": "replica_cashier"})
        primary_from, replica_from = primary.log_size(), replica.log_size()

        kpis = client.call(
            "customer.kpi.report", "formatted_read_group", [], groupby=[],
            aggregates=["new_members:sum", "order_count:sum"],
        )  # fmt: skip
        segments = client.call(
            "customer.metrics.report", "formatted_read_group", [], groupby=["rfm_segment"], aggregates=["__count"]
        )
        cohorts = client.call(
            "customer.cohort.report", "formatted_read_group", [], groupby=["cohort_month:month"],
            aggregates=["cohort_members:max"],
        )  # fmt: skip
        counted = client.call("customer.segment", "web_read", [segment_id], specification={"member_count": {}})
        members = client.call("customer.segment", "action_view_members", [segment_id], route="call_button")
        dashboard = client.get(f"/spreadsheet/dashboard/data/{dashboard_id}")
        pivots = client.call(
            "customer.kpi.report", "formatted_read_grouping_sets", [], grouping_sets=[[], ["month:month"]],
            aggregates=["active_members:avg", "churn_rate:avg"],
        )  # fmt: skip
        time.sleep(0.5)
        primary_log, replica_log = primary.log_text(primary_from), replica.log_text(replica_from)

    # The screens got the replica's figures: the seeded history, replicated.
    assert kpis[0]["new_members:sum"] == 3 and kpis[0]["order_count:sum"] == 6
    assert sum(group["__count"] for group in segments) == 3
    assert sum(group["cohort_members:max"] for group in cohorts) >= 1
    assert counted[0]["member_count"] == 2
    assert len(members["domain"][0][2]) == 2
    assert "snapshot" in dashboard and len(pivots) == 2
    for table in REPORT_TABLES:
        assert table in replica_log, f"{table} was not read on the replica"
        assert table not in primary_log, f"{table} was read on the primary:\n{primary_log[-3000:]}"
    assert "res_partner" in replica_log, "the segment count ran on the replica"
