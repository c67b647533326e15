"""Till benchmark: what the allergen warning adds to the POS load data.

A config with 10,000 members (one in ten with a health consent and allergies, a third of
those severe) and 500 products (three in five with allergens).  The POS opens with
`pos.session.load_data_params` and `pos.session.load_data`; their JSON-RPC answers are
serialised as Odoo's JSON-RPC dispatcher does (`json.dumps(..., ensure_ascii=False,
default=json_default)`) and counted in UTF-8 bytes, as the client receives them.

"main" is the same database and process with the fields and model this branch adds to the
load excluded (`_load_pos_data_fields` / `_load_pos_data_models` wrapped to drop them):
`allergen_contains_ids`, `allergen_trace_ids` (product.template), `registry_allergies`
(res.partner: one short text, e.g. "3!,7", false for a member without allergies),
`registry_allergen_confirmed_ids`,
`registry_allergen_confirmed_at` (pos.order.line) and the model `customer.allergen`.
Everything else, main's fields included, is loaded identically.

Two loads are measured: the config as shipped (Odoo loads the 100 customers with the most
orders, `point_of_sale.limited_customer_count`): load_bytes_ratio; and every member loaded (the
limit raised to 10,000), the worst case: all_members_load_bytes_ratio.  Target for both: <= 1.10
(the exit status is 1 if either is over).
Load times are timed interleaved (A,B then B,A), median of the pair ratios.
"""

import contextlib
import json
import os
import statistics
import time

import harness

SIZES = {
    "small": {"members": 2_000, "products": 100, "pairs": 4},
    "full": {"members": 10_000, "products": 500, "pairs": 6},
}
MODULES = "point_of_sale,customer_registry"
NEW_FIELDS = {
    "product.template": {"allergen_contains_ids", "allergen_trace_ids"},
    "res.partner": {"registry_allergies"},
    "pos.order.line": {"registry_allergen_confirmed_ids", "registry_allergen_confirmed_at"},
}
NEW_MODELS = {"customer.allergen"}


def template_name(size):
    here = os.path.abspath(__file__)
    return f"bench_till_{size}_{harness.source_key(harness.REPO / harness.ADDON, here)}"


def build(pg, addons, size_name, size):
    dbname = template_name(size_name)
    for stale in harness.databases_like(pg, f"bench_till_{size_name}_"):
        if stale != dbname:
            harness.log(f"dropping {stale}, built from other code")
            pg.drop(stale)
    if harness.database_exists(pg, dbname):
        harness.log(f"reusing {dbname}")
        return dbname
    harness.install(pg, addons, dbname, modules=MODULES)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        prepare_shop(cr, size)
    return dbname


def prepare_shop(cr, size):
    import odoo

    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    config = env["pos.config"].browse(env["pos.config"].load_onboarding_retail_scenario()["config_id"])
    allergens = env["customer.allergen"].search([], order="sequence")
    started = time.monotonic()
    templates = env["product.template"].create(
        [
            {"name": f"Bench Product {index}", "list_price": 10 + index % 40, "available_in_pos": True}
            for index in range(size["products"])
        ]
    )
    for index, template in enumerate(templates):
        if index % 5 < 3:  # three in five products carry allergens: two or three contained, one trace
            template.write(
                {
                    "allergen_contains_ids": [(6, 0, allergens[index % 14 : index % 14 + 2 + index % 2].ids)],
                    "allergen_trace_ids": [(6, 0, allergens[(index + 7) % 14].ids)],
                }
            )
    harness.log(f"{len(templates)} products in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    members = Partner.browse()
    for first in range(0, size["members"], 1000):
        members |= Partner.create(
            [
                {
                    "name": f"Bench Person {index}",
                    "is_registry_member": True,
                    "registry_greeting_name": f"Guest {index}",
                }
                for index in range(first, min(first + 1000, size["members"]))
            ]
        )
        env.cr.commit()
        harness.log(f"{len(members)} members in {time.monotonic() - started:.0f} s")
    consenting = members[::10]
    env["customer.consent"].create([{"partner_id": member.id, "purpose": "health"} for member in consenting])
    for index, member in enumerate(consenting):
        allergies = allergens[index % 14 : index % 14 + 1 + index % 2]
        member.write(
            {
                "registry_allergen_ids": [(6, 0, allergies.ids)],
                "registry_severe_allergen_ids": [(6, 0, allergies[:1].ids if index % 3 == 0 else [])],
            }
        )
    admin = env.ref("base.user_admin")
    config.with_user(admin).open_ui()
    config.current_session_id.with_user(admin).set_opening_control(0, None)
    env.cr.commit()
    harness.log(f"{len(consenting)} members with allergies; shop ready")


@contextlib.contextmanager
def without_new_fields(registry):
    """Main's load: the fields and models this branch adds are left out, nothing else changes."""
    import odoo

    patched = []

    def patch(model, name, wrapper):
        cls = registry[model]
        own = cls.__dict__.get(name)
        original = getattr(cls, name)
        setattr(cls, name, odoo.api.model(wrapper(original)))
        patched.append((cls, name, own))

    for model, names in NEW_FIELDS.items():
        patch(
            model,
            "_load_pos_data_fields",
            lambda original, names=names: lambda self, config: [f for f in original(self, config) if f not in names],
        )
    patch(
        "pos.session",
        "_load_pos_data_models",
        lambda original: lambda self, config: [m for m in original(self, config) if m not in NEW_MODELS],
    )
    try:
        yield
    finally:
        for cls, name, own in reversed(patched):
            if own is None:
                delattr(cls, name)
            else:
                setattr(cls, name, own)


def load(registry, customer_limit):
    """(bytes of the two answers, seconds, queries, members loaded, loaded members with allergies)."""
    import odoo
    from odoo.tools import json_default

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("point_of_sale.limited_customer_count", customer_limit)
        admin = env.ref("base.user_admin")
        session = env["pos.session"].search([("state", "=", "opened")], limit=1).with_user(admin)
        session.env.invalidate_all()
        before = cr.sql_log_count
        started = time.perf_counter()
        answers = [session.load_data_params(), session.load_data([])]
        elapsed = time.perf_counter() - started
        queries = cr.sql_log_count - before
        size = sum(
            len(
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "result": answer}, ensure_ascii=False, default=json_default
                ).encode()
            )
            for answer in answers
        )
        partners = answers[1]["res.partner"]
        allergic = sum(1 for p in partners if p.get("registry_allergies"))
        cr.rollback()
    return size, elapsed, queries, len(partners), allergic


def compare(registry, customer_limit, pairs):
    ratios, times_main, times_branch = [], [], []
    load(registry, customer_limit)  # warm-up: the figures below are not those of cold caches
    with without_new_fields(registry):
        main = load(registry, customer_limit)
    branch = load(registry, customer_limit)
    for index in range(pairs):
        order = ("main", "branch") if index % 2 == 0 else ("branch", "main")
        timing = {}
        for which in order:
            if which == "main":
                with without_new_fields(registry):
                    timing[which] = load(registry, customer_limit)[1]
            else:
                timing[which] = load(registry, customer_limit)[1]
        times_main.append(timing["main"])
        times_branch.append(timing["branch"])
        ratios.append(timing["branch"] / timing["main"])
    byte_ratio = branch[0] / main[0]
    harness.log(
        f"customers loaded {branch[3]} ({branch[4]} with allergies): main {main[0]} bytes, {main[2]} queries, "
        f"{statistics.median(times_main) * 1e3:.0f} ms | branch {branch[0]} bytes, {branch[2]} queries, "
        f"{statistics.median(times_branch) * 1e3:.0f} ms | bytes ratio {byte_ratio:.4f}, time pair ratios "
        f"{', '.join(f'{r:.3f}' for r in ratios)}"
    )
    return main[0], branch[0], byte_ratio, statistics.median(ratios)


def main(pg, addons, size_name):
    size = SIZES[size_name]
    dbname = build(pg, addons, size_name, size)
    with harness.odoo_registry(pg, addons, dbname) as registry:
        shipped = compare(registry, 100, size["pairs"])
        everyone = compare(registry, size["members"], size["pairs"])
    print(
        f"load_bytes_ratio={shipped[2]:.4f} main_bytes={shipped[0]} branch_bytes={shipped[1]} "
        f"all_members_load_bytes_ratio={everyone[2]:.4f} all_members_main_bytes={everyone[0]} "
        f"all_members_branch_bytes={everyone[1]} load_time_ratio={shipped[3]:.3f} "
        f"all_members_load_time_ratio={everyone[3]:.3f}",
        flush=True,
    )
    return 0 if max(shipped[2], everyone[2]) <= 1.10 else 1
