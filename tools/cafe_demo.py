"""The demo database of tools/demo: a Norwegian café.

The database is created as Odoo's database manager does for a company in Norway
(`odoo db init --country no --language nb_NO`: NOK, Europe/Oslo, Norwegian
Bokmål loaded and set for the administrator), so installing Point of Sale brings
Odoo's Norwegian localisation (l10n_no: chart of accounts, 25 % and 15 % VAT)
onto the company.  Odoo's own demo data is left out on purpose: with it, account
puts its generic US chart on the main company (Norway's demo data goes to a
second company) and Point of Sale adds three registers of a furniture, clothes
and bakery shop.  CAFE_SCRIPT then loads customer_registry's demo data (the
café's products, the register "Kafé Kassa 1", two members), as Point of Sale
loads its own scenarios, and finishes the café: VAT per product, users.

A database made here carries a comment (DEMO_MARK): tools/demo rebuilds only
databases with that mark, unless told --force.
"""

import json
import subprocess

import harness

DEMO_MARK = "customer_registry demo (tools/demo)"

CAFE_SCRIPT = r"""
import json

from odoo.tools import convert

env["res.lang"]._activate_lang("en_US")  # English stays one setting away
convert.convert_file(env, "customer_registry", "demo/customer_registry_demo.xml", {}, mode="init", noupdate=True)

company = env.ref("base.main_company")
company.write({"name": "Kafé Bryggen", "street": "Bryggen 1", "zip": "5003", "city": "Bergen"})
company.partner_id.tz = "Europe/Oslo"
Tax = env["account.tax"].with_company(company)
sale_tax = {
    rate: Tax.search([("company_id", "=", company.id), ("type_tax_use", "=", "sale"),
                      ("amount_type", "=", "percent"), ("amount", "=", rate), ("name", "=", f"{rate}%")], limit=1)
    for rate in (15, 25)
}
# Food and drink taken away: 15 % (medium rate); everything else 25 %.
food = env.ref("customer_registry.pos_category_cafe_food") | env.ref("customer_registry.pos_category_cafe_drinks")
merch = env.ref("customer_registry.pos_category_cafe_merch")
for categories, rate in ((food, 15), (merch, 25)):
    env["product.template"].search([("pos_categ_ids", "in", categories.ids)]).taxes_id = sale_tax[rate]

cafe = env.ref("customer_registry.pos_config_cafe")
# Odoo's demo registers (furniture, clothes, bakery) are archived: one register, one name.
others = env["pos.config"].search([("id", "!=", cafe.id)])
others.write({"active": False})

home = env.ref("point_of_sale.action_pos_config_kanban")
groups = ["base.group_user", "base.group_partner_manager", "point_of_sale.group_pos_user"]
cashier = env["res.users"].search([("login", "=", "cashier")]) or env["res.users"].create({
    "name": "Kasserer", "login": "cashier", "password": "cashier",
    "group_ids": [(4, env.ref(xmlid).id) for xmlid in groups],
})
users = cashier | env.ref("base.user_admin")
users.write({"lang": "nb_NO", "tz": "Europe/Oslo", "action_id": home.id})
# The demo data's members, whose card codes tools/demo prints (the history adds a few hundred more).
members = env.ref("customer_registry.demo_member_kari") | env.ref("customer_registry.demo_member_ola")
print("CR_DEMO " + json.dumps({
    "register": cafe.name,
    "members": [[m.registry_greeting_name or m.name, m.pseudonym] for m in members],
}))
env.cr.commit()
"""

# Two years of sales history (tools/cafe_history.py), once the café is set up.
HISTORY_SCRIPT = r"""
import json
import sys

sys.path.insert(0, "tools")
import cafe_history

print("CR_HISTORY " + json.dumps(cafe_history.build(env, log=lambda message: None)))
env.cr.commit()
"""


def is_demo_database(pg, dbname):
    out = subprocess.run(
        [
            "psql",
            "-X",
            "-At",
            "-d",
            "postgres",
            "-c",
            f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{dbname}'",
        ],
        env=pg.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out == DEMO_MARK


def build(pg, addons, dbname, force=False):
    """(Re)create `dbname` as the café; return {'register': name, 'members': [[label, code]]}."""
    if harness.database_exists(pg, dbname) and not force and not is_demo_database(pg, dbname):
        harness.die(
            f"database {dbname} exists and was not made by tools/demo: not dropping it. "
            f"Choose another --db, or pass --force to drop and rebuild it."
        )
    # Norway's localisation brings account_peppol, which needs phonenumbers.
    harness.check_python_module("phonenumbers", "phonenumbers")
    pg.drop(dbname)
    harness.log(f"creating {dbname}: a company in Norway (NOK), Norwegian Bokmål")
    try:
        subprocess.run(
            harness.odoo_command(pg, addons, "init", dbname, "--country", "no", "--language", "nb_NO", command="db"),
            check=True,
            cwd=harness.REPO,
            capture_output=True,
            text=True,
        )
        pg.psql(f"COMMENT ON DATABASE \"{dbname}\" IS '{DEMO_MARK}'")
    except subprocess.CalledProcessError as exc:
        pg.drop(dbname)
        harness.die(f"creating database {dbname} failed:\n{exc.stdout}{exc.stderr}")
    except BaseException:
        pg.drop(dbname)
        raise
    harness.log("installing point_of_sale (with Norway's localisation) and customer_registry")
    harness.run_odoo_once(pg, addons, dbname, "-i", f"point_of_sale,{harness.ADDON}")
    out = subprocess.run(
        harness.odoo_command(pg, addons, "-d", dbname, "--no-http", "--log-level=warn", command="shell"),
        input=CAFE_SCRIPT,
        text=True,
        capture_output=True,
        check=False,
        cwd=harness.REPO,
    )
    harness.log("café set up")
    if out.returncode:
        harness.die(f"setting up the café failed:\n{out.stdout}{out.stderr}")
    line = next((row for row in out.stdout.splitlines() if row.startswith("CR_DEMO ")), None)
    if line is None:
        harness.die(f"setting up the café printed nothing:\n{out.stdout}{out.stderr}")
    cafe = json.loads(line[len("CR_DEMO ") :])
    harness.log("adding two years of sales history (members, orders, refunds, loyalty points)")
    out = subprocess.run(
        harness.odoo_command(pg, addons, "-d", dbname, "--no-http", "--log-level=warn", command="shell"),
        input=HISTORY_SCRIPT,
        text=True,
        capture_output=True,
        check=False,
        cwd=harness.REPO,
    )
    line = next((row for row in out.stdout.splitlines() if row.startswith("CR_HISTORY ")), None)
    if out.returncode or line is None:
        harness.die(f"adding the sales history failed:\n{out.stdout}{out.stderr}")
    cafe["history"] = json.loads(line[len("CR_HISTORY ") :])
    harness.log("sales history: {members} members, {orders} orders, {refunds} refunds".format(**cafe["history"]))
    return cafe
