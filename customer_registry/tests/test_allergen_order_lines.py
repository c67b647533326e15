"""The allergen warnings kept on order lines: who reads them, what the sync stores, and how long they live.

Health data about the order's member: registry administrators read them, the sync's re-check alone
writes them (from what the till confirmed, sanitised), the database refuses a row for a customer
without a valid health consent, a withdrawal deletes the unconfirmed ones, and the member's access
copy, erasure and the health-data storage limit cover them.
"""

import json
from datetime import timedelta

import psycopg2

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .pos_privacy_common import PosPrivacyCase

RECHECK_LOGGER = "odoo.addons.customer_registry.models.pos_order_allergen"
LINE_FIELDS = (
    "registry_allergen_confirmed_ids",
    "registry_allergen_unconfirmed_ids",
    "registry_allergen_confirmed_by_id",
    "registry_allergen_confirmed_at",
)


@tagged("post_install", "-at_install")
class TestAllergenOrderLines(PosPrivacyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")
        cls.croissant = cls.create_product("Butter Croissant", cls.categ_basic, 38.0)
        cls.croissant.product_tmpl_id.write({"allergen_contains_ids": [Command.set(cls.milk.ids)]})
        cls.pie = cls.create_product("Pecan Pie", cls.categ_basic, 65.0)
        cls.pie.product_tmpl_id.write({"allergen_contains_ids": [Command.set(cls.nuts.ids)]})
        Partner = cls.env["res.partner"]
        cls.allergic = Partner.create({"name": "Nora", "is_registry_member": True})
        cls.consent = cls.env["customer.consent"].create({"partner_id": cls.allergic.id, "purpose": "health"})
        cls.allergic.write({"registry_allergen_ids": [Command.set((cls.milk | cls.nuts).ids)]})
        cls.no_consent = Partner.create({"name": "Uten", "is_registry_member": True})
        cls.manager = new_test_user(
            cls.env,
            "cr_allergen_lines_manager",
            groups="base.group_user,point_of_sale.group_pos_user,customer_registry.group_registry_manager",
        )
        cls.admin = cls.env.ref("base.user_admin")
        cls.exporting_cashier = new_test_user(
            cls.env,
            "cr_allergen_lines_exporting_cashier",
            groups="base.group_user,point_of_sale.group_pos_user,base.group_allow_export",
        )

    def sync_lines(self, customer, lines, **order_values):
        order_values.setdefault("user_id", self.cashier.id)
        data = self.create_ui_order_data(lines, customer=customer, pos_order_ui_args=order_values)
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        # Read as the registry administrator's backend does (the test's user has no registry rights).
        return self.env["pos.order"].sudo().browse(result["pos.order"][0]["id"]), result

    def confirmed(self, product, allergens, at="now"):
        at = fields.Datetime.to_string(fields.Datetime.now() - timedelta(seconds=30)) if at == "now" else at
        return {
            "product": product,
            "quantity": 1,
            "registry_allergen_confirmed_ids": allergens.ids,
            "registry_allergen_confirmed_at": at,
        }

    def line_of(self, order, product):
        return order.lines.filtered(lambda line: line.product_id == product)

    # F1: who reads them, and the withdrawal

    @mute_logger(RECHECK_LOGGER)
    def test_a_cashier_reads_no_allergen_warning_of_an_order_line(self):
        order, _result = self.sync_lines(self.allergic, [(self.croissant, 1)])
        self.assertEqual(order.lines.registry_allergen_unconfirmed_ids, self.milk, "the conflict is recorded")
        Line = self.env["pos.order.line"].with_user(self.cashier)
        domain = [("order_id", "=", order.id)]
        for name in LINE_FIELDS:
            with self.subTest(field=name):
                with self.assertRaises(AccessError):
                    Line.search_read(domain, [name])
                with self.assertRaises(AccessError):
                    Line.formatted_read_group(domain, [name if "_at" not in name else f"{name}:day"], ["qty:sum"])
                with self.assertRaises(AccessError):
                    Line.with_user(self.exporting_cashier).search(domain).export_data([name])
        # A registry administrator reads them (the backend order, the filter of unconfirmed warnings).
        rows = (
            self.env["pos.order.line"]
            .with_user(self.manager)
            .search_read(domain, ["registry_allergen_unconfirmed_ids"])
        )
        self.assertEqual(rows[0]["registry_allergen_unconfirmed_ids"], self.milk.ids)
        found = (
            self.env["pos.order"]
            .with_user(self.manager)
            .search([("lines.registry_allergen_unconfirmed_ids", "!=", False)])
        )
        self.assertEqual(found, order)

    @mute_logger(RECHECK_LOGGER)
    def test_no_till_loads_the_allergen_warnings_of_orders_back(self):
        order, result = self.sync_lines(self.allergic, [self.confirmed(self.croissant, self.milk), (self.pie, 1)])
        self.assertTrue(order.lines.registry_allergen_confirmed_ids and order.lines.registry_allergen_unconfirmed_ids)
        for row in result["pos.order.line"]:
            self.assertFalse(set(LINE_FIELDS) & set(row), "the sync's answer to the till holds no allergen warning")
        params = self.config.current_session_id.with_user(self.cashier).load_data_params()["pos.order.line"]
        self.assertFalse(set(LINE_FIELDS) & set(params["fields"]), "no till reads them")
        # The till's line model knows the two fields it sends with a confirmation, and only those.
        self.assertEqual(
            {name for name in params["relations"] if name.startswith("registry_allergen")},
            {"registry_allergen_confirmed_ids", "registry_allergen_confirmed_at"},
        )
        self.assertEqual(params["relations"]["registry_allergen_confirmed_ids"]["relation"], "customer.allergen")

    @mute_logger(RECHECK_LOGGER)
    def test_withdrawal_deletes_the_unconfirmed_warnings_and_keeps_the_confirmations(self):
        order, _result = self.sync_lines(self.allergic, [self.confirmed(self.croissant, self.milk), (self.pie, 1)])
        croissant_line, pie_line = self.line_of(order, self.croissant), self.line_of(order, self.pie)
        self.assertEqual(pie_line.registry_allergen_unconfirmed_ids, self.nuts)
        self.consent.action_withdraw()
        self.assertFalse(pie_line.registry_allergen_unconfirmed_ids, "no allergy recorded without the consent")
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM pos_order_line_allergen_unconfirmed_rel WHERE pos_order_line_id = ANY(%s)",
            [order.lines.ids],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # The confirmation stays: the shop's evidence that it warned, for registry administrators only.
        self.assertEqual(croissant_line.registry_allergen_confirmed_ids, self.milk)
        self.assertEqual(croissant_line.registry_allergen_confirmed_by_id, self.cashier)

    @mute_logger(RECHECK_LOGGER)
    def test_withdrawal_by_sql_deletes_the_unconfirmed_warnings(self):
        order, _result = self.sync_lines(self.allergic, [(self.pie, 1)])
        self.assertEqual(order.lines.registry_allergen_unconfirmed_ids, self.nuts)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE customer_consent SET withdrawn_at = now(), withdrawn_by_id = %s WHERE id = %s",
            [self.env.uid, self.consent.id],
        )
        self.env.cr.execute(
            "SELECT count(*) FROM pos_order_line_allergen_unconfirmed_rel WHERE pos_order_line_id = ANY(%s)",
            [order.lines.ids],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "whatever withdraws the last health consent")

    # F2: false health data

    @mute_logger(RECHECK_LOGGER)
    def test_the_till_cannot_set_what_the_server_records(self):
        forged = {
            "registry_allergen_unconfirmed_ids": [self.nuts.id],
            "registry_allergen_confirmed_by_id": self.admin.id,
            "registry_allergen_confirmed_at": "2030-01-01 00:00:00",
        }
        for customer, product in (
            (self.no_consent, self.product),
            (False, self.croissant),
            (self.allergic, self.product),
        ):
            with self.subTest(customer=customer and customer.name):
                order, _result = self.sync_lines(customer, [{"product": product, "quantity": 1, **forged}])
                self.assertEqual(order.state, "paid")
                self.assertRecordValues(
                    order.lines,
                    [
                        {
                            "registry_allergen_confirmed_ids": [],
                            "registry_allergen_unconfirmed_ids": [],
                            "registry_allergen_confirmed_by_id": False,
                            "registry_allergen_confirmed_at": False,
                        }
                    ],
                )

    def test_nobody_writes_the_allergen_warning_of_a_line_by_rpc(self):
        order, _result = self.sync_lines(self.no_consent, [(self.product, 1)])
        values = {
            "registry_allergen_unconfirmed_ids": [Command.set(self.nuts.ids)],
            "registry_allergen_confirmed_ids": [Command.set(self.milk.ids)],
            "registry_allergen_confirmed_by_id": self.admin.id,
            "registry_allergen_confirmed_at": fields.Datetime.now(),
        }
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            order.lines.with_user(self.cashier).write(values)
        for name, value in values.items():
            for line in (
                order.lines.with_user(self.manager),
                order.lines.sudo(),
                # A context key is no permission: an RPC may send any.
                order.lines.sudo().with_context(customer_registry_allergen_recheck_write=True),
            ):
                with (
                    self.subTest(field=name, user=line.env.user.login),
                    self.assertRaisesRegex(UserError, "recorded by the till's synchronisation only"),
                    self.env.cr.savepoint(),
                ):
                    line.write({name: value})
        with self.assertRaisesRegex(UserError, "synchronisation only"), self.env.cr.savepoint():
            self.env["pos.order.line"].sudo().create(
                {
                    "order_id": order.id,
                    "product_id": self.croissant.id,
                    "qty": 1,
                    "price_unit": 1,
                    "price_subtotal": 1,
                    "price_subtotal_incl": 1,
                    "registry_allergen_unconfirmed_ids": [Command.set(self.milk.ids)],
                }
            )
        self.assertFalse(order.lines.registry_allergen_unconfirmed_ids | order.lines.registry_allergen_confirmed_ids)

    @mute_logger("odoo.sql_db")
    def test_the_database_refuses_a_warning_without_consent_and_allergy(self):
        walk_in, _result = self.sync_lines(self.no_consent, [(self.product, 1)])
        member_order, _result = self.sync_lines(self.allergic, [(self.product, 1)])
        gluten = self.env.ref("customer_registry.allergen_gluten")
        self.env.flush_all()
        for table in ("pos_order_line_allergen_unconfirmed_rel", "pos_order_line_allergen_confirmed_rel"):
            for line, allergen in ((walk_in.lines, self.nuts), (member_order.lines, gluten)):
                with (
                    self.subTest(table=table, line=line.order_id.partner_id.name, allergen=allergen.name),
                    self.assertRaises(psycopg2.errors.CheckViolation),
                    self.env.cr.savepoint(flush=False),
                ):
                    self.env.cr.execute(
                        SQL("INSERT INTO %s VALUES (%s, %s)", SQL.identifier(table), line.id, allergen.id)
                    )
            # An allergy of the member's, under consent: accepted.
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL("INSERT INTO %s VALUES (%s, %s)", SQL.identifier(table), member_order.lines.id, self.milk.id)
                )

    # F5, F6, F7: what the till sends, sanitised

    @mute_logger(RECHECK_LOGGER)
    def test_an_unknown_allergen_or_a_bad_time_loses_neither_the_order_nor_the_confirmation(self):
        order, _result = self.sync_lines(
            self.allergic,
            [
                {
                    **self.confirmed(self.croissant, self.milk),
                    "registry_allergen_confirmed_ids": [self.milk.id, 987654],
                },
                {**self.confirmed(self.pie, self.nuts), "registry_allergen_confirmed_at": "yesterday"},
            ],
        )
        self.assertEqual(order.state, "paid", "the order is synced and paid")
        croissant_line, pie_line = self.line_of(order, self.croissant), self.line_of(order, self.pie)
        self.assertEqual(croissant_line.registry_allergen_confirmed_ids, self.milk, "the known allergen is kept")
        self.assertEqual(pie_line.registry_allergen_confirmed_ids, self.nuts)
        # A time that is no time: the server's.
        self.assertLessEqual(abs(pie_line.registry_allergen_confirmed_at - fields.Datetime.now()), timedelta(minutes=1))

    def test_the_confirmation_time_is_within_the_order(self):
        order, _result = self.sync_lines(
            self.allergic,
            [
                self.confirmed(self.croissant, self.milk, "1970-01-01 00:00:00"),
                self.confirmed(self.pie, self.nuts, "2999-01-01 00:00:00"),
            ],
        )
        for line in order.lines:
            self.assertGreaterEqual(line.registry_allergen_confirmed_at, order.date_order - timedelta(minutes=5))
            self.assertLessEqual(line.registry_allergen_confirmed_at, fields.Datetime.now())
        told_at = fields.Datetime.to_string(fields.Datetime.now() - timedelta(seconds=30))
        order, _result = self.sync_lines(self.allergic, [self.confirmed(self.croissant, self.milk, told_at)])
        self.assertEqual(
            order.lines.registry_allergen_confirmed_at, fields.Datetime.to_datetime(told_at), "the till's time"
        )

    def test_the_confirmation_is_the_synchronising_users(self):
        order, _result = self.sync_lines(
            self.allergic, [self.confirmed(self.croissant, self.milk)], user_id=self.admin.id
        )
        self.assertEqual(order.lines.registry_allergen_confirmed_by_id, self.cashier, "not whoever the payload names")

    # F3, F4: the access copy and the storage limit

    @mute_logger(RECHECK_LOGGER)
    def test_the_access_copy_lists_the_warnings_of_each_line(self):
        self.sync_lines(self.allergic, [self.confirmed(self.croissant, self.milk), (self.pie, 1)])
        export = self.allergic.with_user(self.pii_user)._registry_access_export()
        lines = {line["product"]: line for order in export["purchases"] for line in order["lines"]}
        self.assertEqual(lines["Butter Croissant"]["allergens_confirmed"], [self.milk.name])
        self.assertEqual(lines["Butter Croissant"]["allergens_confirmed_by"], self.cashier.name)
        self.assertTrue(lines["Butter Croissant"]["allergens_confirmed_at"])
        self.assertEqual(lines["Pecan Pie"]["allergens_not_confirmed"], [self.nuts.name])
        self.assertEqual(lines["Pecan Pie"]["allergens_confirmed"], [])
        json.dumps(export)
        page = self.env["ir.qweb"]._render("customer_registry.access_export_document", {"data": export})
        self.assertIn(self.milk.name, page)
        self.assertIn(self.nuts.name, page)

    @mute_logger(RECHECK_LOGGER)
    def test_the_health_data_limit_reaches_the_warnings_of_a_withdrawn_member(self):
        order, _result = self.sync_lines(self.allergic, [self.confirmed(self.croissant, self.milk)])
        self.consent.action_withdraw()
        self.assertEqual(order.lines.registry_allergen_confirmed_ids, self.milk, "kept through the withdrawal")
        # Two years without a purchase: past a 12-month health-data limit.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE pos_order SET date_order = now() - interval '2 years' WHERE partner_id = %s", [self.allergic.id]
        )
        self.env.cr.execute(
            "UPDATE res_partner SET create_date = now() - interval '3 years',"
            " registry_enrolled_at = now() - interval '3 years' WHERE id = %s",
            [self.allergic.id],
        )
        self.env.company.registry_health_data_months = 12
        Partner = self.env["res.partner"].sudo()
        _erase, health = Partner._registry_storage_limit_due(self.env.company)
        self.assertIn(self.allergic.pseudonym, health, "the dry run finds the member by the warnings of its orders")
        due = Partner.browse(Partner._registry_inactive_member_ids(self.env.company, 12, with_health_data=True))
        self.assertIn(self.allergic, due)
        due._registry_clear_health_data()
        self.assertRecordValues(
            order.lines,
            [
                {
                    "registry_allergen_confirmed_ids": [],
                    "registry_allergen_unconfirmed_ids": [],
                    "registry_allergen_confirmed_by_id": False,
                    "registry_allergen_confirmed_at": False,
                }
            ],
        )
        self.assertNotIn(
            self.allergic,
            Partner.browse(Partner._registry_inactive_member_ids(self.env.company, 12, with_health_data=True)),
        )
        self.assertEqual(order.state, "paid", "the order stays")

    # Inherited from main: the member's health data is for registry users

    def test_an_internal_user_without_registry_rights_reads_no_allergies(self):
        employee = new_test_user(
            self.env, "cr_allergen_lines_employee", groups="base.group_user,base.group_partner_manager"
        )
        self.assertFalse(employee.has_group("customer_registry.group_registry_user"))
        Partner = self.env["res.partner"].with_user(employee)
        domain = [("id", "=", self.allergic.id)]
        for name in (
            "registry_allergen_ids",
            "registry_severe_allergen_ids",
            "registry_diet_ids",
            "registry_allergies",
        ):
            with self.subTest(field=name), self.assertRaises(AccessError):
                Partner.search_read(domain, [name])
        for name in ("registry_allergen_ids", "registry_diet_ids"):
            with self.subTest(field=name), self.assertRaises(AccessError):
                Partner.formatted_read_group(domain, [name], ["__count"])
        with self.assertRaises(AccessError):
            Partner.search([("registry_allergen_ids", "=", self.milk.id)])
        # The cashier (a registry user) still does: the till's warning.
        row = (
            self.env["res.partner"]
            .with_user(self.cashier)
            .search_read(domain, ["registry_allergen_ids", "registry_allergies"])
        )
        self.assertEqual(sorted(row[0]["registry_allergen_ids"]), sorted((self.milk | self.nuts).ids))
