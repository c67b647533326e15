"""tools/demo builds a Norwegian café: run it as a user does, read what it prints,
stop it, then look at the database it left on the test's PostgreSQL."""

import json
import os
import re
import signal
import subprocess
import sys
import threading

import harness
import pytest

CHECK_SCRIPT = r"""
import json

cashier = env["res.users"].search([("login", "=", "cashier")])
company = cashier.company_id
codes = json.loads(CODES)
Partner = env["res.partner"].with_user(cashier)
members = {}
for label, code in codes:
    # What the register does with a scanned or typed code (pos_store.findRegistryMember).
    found = Partner.search_read([("pseudonym", "=", code)], ["display_name", "is_registry_member"])
    members[code] = {
        "found": found,
        "find_by_pseudonym": Partner.find_by_pseudonym(code).display_name,
        "scan_type": company.nomenclature_id.parse_barcode(code)["type"],
    }
card_ids = Partner.search([("pseudonym", "in", [code for _label, code in codes])]).ids
card_html = env["ir.actions.report"].with_user(cashier)._render_qweb_html(
    "customer_registry.report_member_card", card_ids
)[0].decode()
taxes = {}
for product in env["product.template"].search([("available_in_pos", "=", True), ("pos_categ_ids", "!=", False)]):
    taxes[product.with_context(lang="en_US").name] = {
        "taxes": product.taxes_id.mapped("amount"),
        "category": product.pos_categ_ids.mapped("name"),
        "price_incl": product.taxes_id.compute_all(product.list_price)["total_included"],
    }
registers = env["pos.config"].search([])
# The sales history, read as the cashier reads the reports, before the register is opened.
Metrics = env["customer.metrics.report"].with_user(cashier)
Kpi = env["customer.kpi.report"].with_user(cashier)
Orders = env["pos.order"]
history = {
    "members": env["res.partner"].search_count([("is_registry_member", "=", True)]),
    "buyers": Metrics.search_count([]),
    "orders": Orders.search_count([("state", "=", "done"), ("amount_total", ">", 0)]),
    "refunds": Orders.search_count([("state", "=", "done"), ("amount_total", "<", 0)]),
    "refunds_without_member": Orders.search_count([("amount_total", "<", 0), ("partner_id", "=", False)]),
    "not_posted": Orders.search_count([("state", "!=", "done")]),
    "unsettled": Orders.search_count([("loyalty_state", "in", ("pending", "failed"))]),
    "open_sessions": env["pos.session"].search_count([("state", "!=", "closed")]),
    "segments": sorted({row["rfm_segment"] for row in Metrics.formatted_read_group([], ["rfm_segment"], ["__count"])}),
    "active_months": [
        group["active_members:sum"]
        for group in Kpi.formatted_read_group([], ["month:month"], ["active_members:sum"])
    ],
    "cohort_sizes": [
        group["cohort_members:max"]
        for group in env["customer.cohort.report"].with_user(cashier).formatted_read_group(
            [("months_since_first", "=", 0)], ["cohort_month:month"], ["cohort_members:max"]
        )
    ],
    "balances": env["res.partner"].search_count([("is_registry_member", "=", True), ("loyalty_balance", ">", 0)]),
}
# The cashier opens the register as from the dashboard's "Open Register" (not committed).
cafe = env.ref("customer_registry.pos_config_cafe")
opened = cafe.with_user(cashier).open_ui()
session = cafe.current_session_id
print("CHECK " + json.dumps({
    "currency": company.currency_id.name,
    "country": company.country_id.code,
    "chart": company.chart_template,
    "sale_tax": company.account_sale_tax_id.amount,
    "langs": env["res.lang"].search([]).mapped("code"),
    "user_langs": {u.login: u.lang for u in cashier | env.ref("base.user_admin")},
    "home": {u.login: u.action_id.id for u in cashier | env.ref("base.user_admin")},
    "pos_dashboard": env.ref("point_of_sale.action_pos_config_kanban").id,
    "registers": [[r.name, r.currency_id.name, r.iface_tax_included] for r in registers],
    "register_groups_cashier": bool(cashier.has_group("point_of_sale.group_pos_user")),
    "opened": [opened["url"], session.state, session.currency_id.name, session.user_id.login],
    "members": members,
    "card_html": card_html,
    "products": taxes,
    "history": history,
}))
"""


@pytest.fixture(scope="module")
def cafe(pg, addons):
    """Run tools/demo on the test's server; return (what it printed, the check's findings)."""
    dbname = f"cr_demo_test_{os.getpid()}"
    env = dict(pg.env(), PYTHON=harness.odoo_python())
    demo = subprocess.Popen(
        [sys.executable, str(harness.REPO / "tools" / "demo"), "--db", dbname, "--port", str(harness.free_port())],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(600, demo.terminate)
    watchdog.start()
    printed = []
    try:
        for line in demo.stdout:
            printed.append(line)
            if "Ctrl-C stops everything" in line:
                break
        demo.send_signal(signal.SIGTERM)  # as Ctrl-C: stops Odoo, keeps the database on this server
        assert demo.wait(timeout=60) == 0, "".join(printed)
    finally:
        watchdog.cancel()
        if demo.poll() is None:
            demo.kill()
    output = "".join(printed)
    codes = re.findall(r"^\s+(042\d{10})\s+(\S.*)$", output, flags=re.MULTILINE)
    script = f"CODES = {json.dumps(json.dumps([[label, code] for code, label in codes]))}\n" + CHECK_SCRIPT
    check = subprocess.run(
        harness.odoo_command(pg, addons, "-d", dbname, "--no-http", "--log-level=warn", command="shell"),
        input=script,
        capture_output=True,
        text=True,
        check=False,
        cwd=harness.REPO,
    )
    try:
        line = next(row for row in check.stdout.splitlines() if row.startswith("CHECK "))
    except StopIteration:
        pytest.fail(f"the check script failed:\n{check.stdout}{check.stderr}")
    yield output, codes, json.loads(line[len("CHECK ") :])
    pg.drop(dbname)


def test_the_company_is_norwegian(cafe):
    _output, _codes, found = cafe
    assert (found["currency"], found["country"], found["chart"]) == ("NOK", "NO", "no")
    assert found["sale_tax"] == 25


def test_food_is_taxed_15_percent_and_the_rest_25(cafe):
    products = cafe[2]["products"]
    assert products["Skolebolle"]["taxes"] == [15]
    assert products["Cappuccino"]["taxes"] == [15]
    assert products["Termokrus"]["taxes"] == [25]
    assert round(products["Skolebolle"]["price_incl"], 2) == 45.0, "prices are round with VAT"
    assert round(products["Termokrus"]["price_incl"], 2) == 249.0
    assert all(product["taxes"] in ([15], [25]) for product in products.values())


def test_norwegian_for_the_users_english_one_setting_away(cafe):
    found = cafe[2]
    assert found["user_langs"] == {"cashier": "nb_NO", "admin": "nb_NO"}
    assert {"nb_NO", "en_US"} <= set(found["langs"])


def test_one_register_with_a_clear_name_where_the_users_land(cafe):
    output, _codes, found = cafe
    assert found["registers"] == [["Kafé Kassa 1", "NOK", "total"]]
    assert "Kafé Kassa 1" in output
    assert found["home"] == {"cashier": found["pos_dashboard"], "admin": found["pos_dashboard"]}
    assert found["register_groups_cashier"]
    url, state, currency, user = found["opened"]
    assert url.startswith("/pos/ui/") and (state, currency, user) == ("opening_control", "NOK", "cashier")


def test_the_printed_codes_select_the_members(cafe):
    output, codes, found = cafe
    assert "cashier" in output and "admin" in output
    assert [label for _code, label in codes] == ["Kari", "Ola"]
    for code, label in codes:
        member = found["members"][code]
        assert member["scan_type"] == "client", "a scan of the card is read as a customer card"
        assert [row["display_name"] for row in member["found"]] == [label]
        assert member["find_by_pseudonym"] == label
        assert code in found["card_html"], "the member card prints the code"
        assert re.search(f'<img[^>]+alt="[^"]*{code}"', found["card_html"]), "the card has the code's barcode"
    assert found["card_html"].count('src="data:image/png;base64,') == len(codes), "each card has its barcode"
    for personal in ("Nordmann", "@example.com", "Storgata", "912 34 567"):
        assert personal not in found["card_html"], "a card carries no personal data"


def test_two_years_of_sales_history_fill_every_report(cafe):
    output, _codes, found = cafe
    history = found["history"]
    assert "sales history:" in output or history["orders"], "the build says what it added"
    assert history["members"] >= 200 and history["buyers"] >= 200, "a few hundred members who bought"
    assert history["orders"] >= 1000
    assert len(history["active_months"]) >= 24, "two years of months, every month with buyers"
    assert all(active > 0 for active in history["active_months"])
    assert max(history["active_months"]) > 1.5 * min(history["active_months"][1:]), "seasons and growth show"
    assert len(history["cohort_sizes"]) >= 24
    assert len(history["segments"]) >= 6, "members in most RFM segments, lapsed ones included"
    assert "lost" in history["segments"] or "hibernating" in history["segments"]
    assert history["refunds"] >= 5 and history["refunds_without_member"] >= 1
    # Consistent as the till leaves it: paid and posted, the loyalty ledger settled, no session left open.
    assert (history["not_posted"], history["unsettled"], history["open_sessions"]) == (0, 0, 0)
    assert history["balances"] >= 100, "members earned points through the ledger"
