"""Loyalty ledger benchmark: earning inside the POS sync, and reading a balance.

1. 500 paid member orders synced one per `pos.order.sync_from_ui` call (as the
   Odoo 19 POS client does), timed batch by batch, interleaved A,B then B,A:
   - vanilla point_of_sale vs. point_of_sale + customer_registry (earning in the sync);
   - point_of_sale + pos_loyalty (sync + its `confirm_coupon_programs` call, as its
     client does) vs. point_of_sale + customer_registry.
2. Reading a member's balance when its ledger holds 10 entries vs. 1,000,000.

Each ratio is the median of the pair ratios; queries per operation are printed
beside the timings (they do not depend on the machine).
"""

import contextlib
import os
import statistics
import subprocess
import time
import uuid

import harness

SIZES = {
    "small": {"orders": 100, "batch": 10, "entries": 100_000, "reads": 500},
    "full": {"orders": 500, "batch": 25, "entries": 1_000_000, "reads": 2000},
}
TEMPLATES = {
    "vanilla": "point_of_sale",
    "registry": "point_of_sale,customer_registry",
    "pos_loyalty": "point_of_sale,pos_loyalty",
}
WARMUP_ORDERS = 5


def template_name(name):
    """Templates are kept between runs on a server named by PGHOST; their name
    carries a hash of the addon and of this file, so changed code rebuilds them."""
    here = os.path.abspath(__file__)
    return f"bench_ledger_{name}_{harness.source_key(harness.REPO / harness.ADDON, here)}"


def build_template(pg, addons, name, modules):
    dbname = template_name(name)
    for stale in [f"bench_ledger_{name}", *harness.databases_like(pg, f"bench_ledger_{name}_")]:
        if stale != dbname and harness.database_exists(pg, stale):
            harness.log(f"dropping template {stale}, built from other code")
            pg.drop(stale)
    if not harness.database_exists(pg, dbname):
        harness.install(pg, addons, dbname, modules=modules)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        cr.execute("SELECT 1 FROM pos_session WHERE state = 'opened'")
        if cr.fetchone():
            harness.log(f"reusing template {dbname}")
        else:
            prepare_shop(cr, name)
    return dbname


def clone(pg, template, dbname):
    pg.drop(dbname)
    subprocess.run(["createdb", "-T", template, dbname], env=pg.env(), check=True)
    return dbname


def prepare_shop(cr, name):
    """A chart of accounts, an open POS session, two products and 50 customers."""
    import odoo

    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    config = env["pos.config"].browse(env["pos.config"].load_onboarding_retail_scenario()["config_id"])
    env["product.product"].create(
        [
            {"name": "Bench Bread", "list_price": 4.5, "available_in_pos": True, "taxes_id": [(5, 0, 0)]},
            {"name": "Bench Coffee", "list_price": 3.2, "available_in_pos": True, "taxes_id": [(5, 0, 0)]},
        ]
    )
    customer_vals = [{"name": f"Bench Customer {index}"} for index in range(50)]
    if name == "registry":
        # A member's label never holds its legal name.
        for index, vals in enumerate(customer_vals):
            vals.update(is_registry_member=True, registry_greeting_name=f"Guest {index}")
        env["customer.loyalty.program"].create({"company_id": company.id, "points_per_amount": 1.0})
    partners = env["res.partner"].create(customer_vals)
    if name == "pos_loyalty":
        program = env["loyalty.program"].create(
            {
                "name": "Bench Loyalty",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "pos_ok": True,
                "pos_config_ids": [(4, config.id)],
                "rule_ids": [(0, 0, {"reward_point_mode": "money", "reward_point_amount": 1, "minimum_amount": 0})],
                "reward_ids": [
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount": 1,
                            "discount_mode": "per_point",
                            "required_points": 100,
                        },
                    )
                ],
            }
        )
        env["loyalty.card"].create([{"program_id": program.id, "partner_id": p.id, "points": 0} for p in partners])
    admin = env.ref("base.user_admin")
    config.with_user(admin).open_ui()
    config.current_session_id.with_user(admin).set_opening_control(0, None)


def order_data(env, session, products, partner):
    lines = [(products[0], 2), (products[1], 1)]
    line_vals = []
    for product, qty in lines:
        total = product.lst_price * qty
        line_vals.append(
            (
                0,
                0,
                {
                    "product_id": product.id,
                    "qty": qty,
                    "price_unit": product.lst_price,
                    "discount": 0,
                    "price_subtotal": total,
                    "price_subtotal_incl": total,
                    "tax_ids": [(6, 0, [])],
                    "pack_lot_ids": [],
                },
            )
        )
    amount = sum(vals[2]["price_subtotal_incl"] for vals in line_vals)
    cash = session.config_id.payment_method_ids.filtered("is_cash_count")[:1]
    order_uuid = str(uuid.uuid4())
    return {
        "uuid": order_uuid,
        "name": f"Order {order_uuid}",
        "session_id": session.id,
        "user_id": env.uid,
        "partner_id": partner.id,
        "pricelist_id": session.config_id.pricelist_id.id,
        "fiscal_position_id": False,
        "date_order": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "last_order_preparation_change": "{}",
        "lines": line_vals,
        "amount_total": amount,
        "amount_tax": 0,
        "amount_paid": amount,
        "amount_return": 0,
        "payment_ids": [
            (
                0,
                0,
                {
                    "amount": amount,
                    "payment_method_id": cash.id,
                    "name": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                },
            )
        ],
        "to_invoice": False,
    }


class Shop:
    """One database: syncs orders as the POS client does, one RPC per order."""

    def __init__(self, name, registry):
        import odoo

        self.name, self.registry, self.odoo = name, registry, odoo
        with self.cursor() as (_cr, env):
            self.uid = env.ref("base.user_admin").id
            self.session_id = env["pos.session"].search([("state", "=", "opened")], limit=1).id
            self.product_ids = env["product.product"].search([("name", "like", "Bench ")], order="id").ids
            # Members are named by their label (their legal name is in the identity).
            customers = (
                [("registry_greeting_name", "like", "Guest ")]
                if "registry_greeting_name" in env["res.partner"]._fields
                else [("name", "like", "Bench Customer")]
            )
            self.partner_ids = env["res.partner"].search(customers, order="id").ids
            self.cards = {}
            if name == "pos_loyalty":
                for card in env["loyalty.card"].search([("partner_id", "in", self.partner_ids)]):
                    self.cards[card.partner_id.id] = (card.id, card.program_id.id)
        self.sequence = 0
        self.queries = 0
        self.orders = 0

    @contextlib.contextmanager
    def cursor(self, uid=None):
        with self.registry.cursor() as cr:
            yield cr, self.odoo.api.Environment(cr, uid or self.odoo.SUPERUSER_ID, {})

    def sync_one(self):
        partner_id = self.partner_ids[self.sequence % len(self.partner_ids)]
        self.sequence += 1
        with self.cursor(self.uid) as (cr, env):
            session = env["pos.session"].browse(self.session_id)
            products = env["product.product"].browse(self.product_ids)
            data = order_data(env, session, products, env["res.partner"].browse(partner_id))
            before = cr.sql_log_count
            result = env["pos.order"].sync_from_ui([data])
            self.queries += cr.sql_log_count - before
        if self.name == "pos_loyalty":
            order_id = result["pos.order"][0]["id"]
            card_id, program_id = self.cards[partner_id]
            with self.cursor(self.uid) as (cr, env):
                before = cr.sql_log_count
                env["pos.order"].browse(order_id).confirm_coupon_programs(
                    {
                        str(card_id): {
                            "points": data["amount_total"],
                            "program_id": program_id,
                            "coupon_id": card_id,
                            "barcode": False,
                            "partner_id": partner_id,
                        }
                    }
                )
                self.queries += cr.sql_log_count - before
        self.orders += 1

    def sync_batch(self, count):
        started = time.perf_counter()
        for _index in range(count):
            self.sync_one()
        return time.perf_counter() - started

    def queries_per_order(self):
        return self.queries / self.orders


def interleaved(a, b, size):
    """Median over batches of time(b) / time(a), each pair run A,B then B,A alternately."""
    ratios, times_a, times_b = [], [], []
    for shop in (a, b):
        shop.sync_batch(WARMUP_ORDERS)
        shop.queries = shop.orders = 0
    for index in range(size["orders"] // size["batch"]):
        if index % 2 == 0:
            time_a, time_b = a.sync_batch(size["batch"]), b.sync_batch(size["batch"])
        else:
            time_b, time_a = b.sync_batch(size["batch"]), a.sync_batch(size["batch"])
        times_a.append(time_a)
        times_b.append(time_b)
        ratios.append(time_b / time_a)
    harness.log(
        f"{a.name}: {statistics.median(times_a) / size['batch'] * 1e3:.1f} ms/order, {a.queries_per_order():.1f} "
        f"queries/order | {b.name}: {statistics.median(times_b) / size['batch'] * 1e3:.1f} ms/order, "
        f"{b.queries_per_order():.1f} queries/order | pair ratios {', '.join(f'{r:.3f}' for r in ratios)}"
    )
    return statistics.median(ratios)


def fill_ledger(pg, dbname, entries):
    """One member with `entries` ledger entries (balance consistent), bulk-inserted."""
    # A bulk load by the database owner: the ledger's triggers (which post one entry at a time and refuse a
    # balance moved outside them) are bypassed with session_replication_role, as a restore would.
    pg.psql(
        f"""
        SET session_replication_role = replica;
        WITH member AS (SELECT id, pseudonym, company_id FROM res_partner
                         WHERE name = 'Bench Customer 0' LIMIT 1),
             program AS (SELECT id, company_id FROM customer_loyalty_program LIMIT 1)
        INSERT INTO customer_loyalty_entry (member_id, pseudonym, company_id, program_id, date, kind, points,
                                            balance_after, note, create_date, write_date)
        SELECT member.id, member.pseudonym, program.company_id, program.id,
               now() - (n || ' minutes')::interval, 'adjustment', 1, n, 'bench', now(), now()
          FROM member, program, generate_series(1, {entries}) AS n;
        UPDATE res_partner SET loyalty_balance = {entries} WHERE name = 'Bench Customer 0';
        SET session_replication_role = DEFAULT;
        ANALYZE customer_loyalty_entry;
    """,
        dbname,
    )


def time_balance_reads(shop, reads):
    with shop.cursor(shop.uid) as (cr, env):
        member = env["res.partner"].browse(shop.partner_ids[0])
        before = cr.sql_log_count
        started = time.perf_counter()
        for _index in range(reads):
            member.invalidate_recordset(["loyalty_balance"])
            balance = member.loyalty_balance
        elapsed = time.perf_counter() - started
        return elapsed, (cr.sql_log_count - before) / reads, balance


def balance_ratio(small, big, size):
    ratios = []
    for index in range(6):
        pair = (small, big) if index % 2 == 0 else (big, small)
        timings = {shop.name: time_balance_reads(shop, size["reads"]) for shop in pair}
        ratios.append(timings[big.name][0] / timings[small.name][0])
    for shop in (small, big):
        elapsed, queries, balance = time_balance_reads(shop, size["reads"])
        harness.log(
            f"{shop.name}: balance {balance} read in {elapsed / size['reads'] * 1e6:.0f} us, {queries:.0f} query/read"
        )
    harness.log(f"balance pair ratios {', '.join(f'{r:.3f}' for r in ratios)}")
    return statistics.median(ratios)


def main(pg, addons, size):
    size = SIZES[size]
    templates = {name: build_template(pg, addons, name, modules) for name, modules in TEMPLATES.items()}
    databases = {name: clone(pg, template, f"bench_ledger_run_{name}") for name, template in templates.items()}
    ledger_10 = clone(pg, templates["registry"], "bench_ledger_run_10_entries")
    ledger_big = clone(pg, templates["registry"], "bench_ledger_run_big_ledger")
    fill_ledger(pg, ledger_10, 10)
    fill_ledger(pg, ledger_big, size["entries"])
    with contextlib.ExitStack() as stack:
        shops = {
            name: Shop(name, stack.enter_context(harness.odoo_registry(pg, addons, dbname)))
            for name, dbname in databases.items()
        }
        sync_vs_vanilla = interleaved(shops["vanilla"], shops["registry"], size)
        sync_vs_pos_loyalty = interleaved(shops["pos_loyalty"], shops["registry"], size)
        small = Shop("ledger_10_entries", stack.enter_context(harness.odoo_registry(pg, addons, ledger_10)))
        big = Shop(
            f"ledger_{size['entries']}_entries", stack.enter_context(harness.odoo_registry(pg, addons, ledger_big))
        )
        balance = balance_ratio(small, big, size)
    print(
        f"sync_ratio_vs_vanilla={sync_vs_vanilla:.3f} sync_ratio_vs_pos_loyalty={sync_vs_pos_loyalty:.3f} "
        f"balance_ratio_1m_vs_10={balance:.3f}",
        flush=True,
    )
    return 0
