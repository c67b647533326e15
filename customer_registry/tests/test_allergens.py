"""Allergens of products, the severity of a member's allergies, and the server's re-check of the till's warning."""

import json
from datetime import timedelta

import psycopg2

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import RegistryCase
from .pos_privacy_common import PosPrivacyCase


class _Refused:
    """The database refuses the statement (a check violation), in a savepoint."""

    def __init__(self, case):
        self.case = case

    def __enter__(self):
        self.savepoint = self.case.env.cr.savepoint(flush=False)
        self.savepoint.__enter__()
        self.muted = mute_logger("odoo.sql_db")
        self.muted.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.muted.__exit__(None, None, None)
        self.savepoint.__exit__(exc_type, exc, tb)
        self.case.assertIsNotNone(exc_type, "the database accepted it")
        self.case.assertTrue(issubclass(exc_type, psycopg2.errors.CheckViolation), exc)
        return True


@tagged("post_install", "-at_install")
class TestProductAllergens(RegistryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")
        cls.gluten = cls.env.ref("customer_registry.allergen_gluten")
        cls.pie = cls.env["product.template"].create({"name": "Pecan Pie", "available_in_pos": True})

    def test_product_lists_what_it_contains_and_may_contain(self):
        self.pie.write({"allergen_contains_ids": [Command.set((self.nuts | self.gluten).ids)]})
        self.pie.write({"allergen_trace_ids": [Command.link(self.milk.id)]})
        self.assertEqual(self.pie.allergen_contains_ids, self.nuts | self.gluten)
        self.assertEqual(self.pie.allergen_trace_ids, self.milk)
        # Moving an allergen from one list to the other in one save is fine.
        self.pie.write(
            {
                "allergen_contains_ids": [Command.link(self.milk.id)],
                "allergen_trace_ids": [Command.unlink(self.milk.id)],
            }
        )
        self.env.cr.execute("SET CONSTRAINTS customer_registry_product_allergen_guard IMMEDIATE")
        self.assertEqual(self.pie.allergen_contains_ids, self.nuts | self.gluten | self.milk)

    def test_an_allergen_is_contained_or_a_trace_not_both(self):
        self.pie.allergen_contains_ids = self.nuts
        with (
            self.assertRaisesRegex(ValidationError, "Pecan Pie cannot both contain and may contain"),
            self.env.cr.savepoint(),
        ):
            self.pie.write({"allergen_trace_ids": [Command.link(self.nuts.id)]})
        self.env.flush_all()
        self.env.cr.execute("SET CONSTRAINTS customer_registry_product_allergen_guard IMMEDIATE")
        with _Refused(self):
            self.env.cr.execute(
                "INSERT INTO product_template_allergen_traces_rel (product_template_id, customer_allergen_id) "
                "VALUES (%s, %s)",
                [self.pie.id, self.nuts.id],
            )

    def test_allergens_are_imported_by_name(self):
        result = self.env["product.template"].load(
            ["name", "allergen_contains_ids", "allergen_trace_ids"],
            [["Butter Croissant", "Milk,Cereals containing gluten", "Nuts"]],
        )
        self.assertFalse(result["messages"], result["messages"])
        croissant = self.env["product.template"].browse(result["ids"])
        self.assertEqual(croissant.allergen_contains_ids, self.milk | self.gluten)
        self.assertEqual(croissant.allergen_trace_ids, self.nuts)
        result = self.env["product.template"].load(
            ["name", "allergen_contains_ids", "allergen_trace_ids"], [["Bad Bun", "Milk", "Milk"]]
        )
        self.assertFalse(result["ids"], "a product listing milk in both lists is not imported")
        self.assertIn("cannot both contain", json.dumps(result["messages"]))


@tagged("post_install", "-at_install")
class TestAllergySeverity(RegistryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")

    def consent(self):
        return self.env["customer.consent"].create({"partner_id": self.member.id, "purpose": "health"})

    def check_now(self):
        """What the commit checks, now."""
        self.env.flush_all()
        self.env.cr.execute("SET CONSTRAINTS customer_registry_severe_allergy_guard IMMEDIATE")
        self.env.cr.execute("SET CONSTRAINTS customer_registry_severe_allergy_guard DEFERRED")

    def severe_rows(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT customer_allergen_id FROM customer_allergen_severe_res_partner_rel WHERE res_partner_id = %s",
            [self.member.id],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def test_severity_needs_the_health_consent_whatever_the_channel(self):
        with self.assertRaisesRegex(ValidationError, "consent"):
            self.member.with_user(self.cashier).write({"registry_severe_allergen_ids": [Command.link(self.nuts.id)]})
        with _Refused(self):
            self.env.cr.execute(
                "INSERT INTO customer_allergen_severe_res_partner_rel (res_partner_id, customer_allergen_id) "
                "VALUES (%s, %s)",
                [self.member.id, self.nuts.id],
            )

    def test_a_severe_allergy_is_one_of_the_allergies(self):
        self.consent()
        member = self.member.with_user(self.cashier)
        member.write(
            {
                "registry_allergen_ids": [Command.link(self.nuts.id)],
                "registry_severe_allergen_ids": [Command.link(self.nuts.id)],
            }
        )
        self.check_now()
        self.assertEqual(member.registry_severe_allergen_ids, self.nuts)
        with (
            self.assertRaisesRegex(ValidationError, "severe allergy .* must also be one of its allergies"),
            self.env.cr.savepoint(),
        ):
            member.write({"registry_severe_allergen_ids": [Command.link(self.milk.id)]})
        with _Refused(self):
            self.env.cr.execute(
                "INSERT INTO customer_allergen_severe_res_partner_rel (res_partner_id, customer_allergen_id) "
                "VALUES (%s, %s)",
                [self.member.id, self.milk.id],
            )
            self.env.cr.execute("SET CONSTRAINTS customer_registry_severe_allergy_guard IMMEDIATE")
        # No longer allergic: no longer severely.
        member.write({"registry_allergen_ids": [Command.unlink(self.nuts.id)]})
        self.assertFalse(member.registry_severe_allergen_ids)
        self.assertEqual(self.severe_rows(), [])

    def test_withdrawal_by_sql_erasure_and_export_cover_the_severity(self):
        consent = self.consent()
        self.member.write(
            {
                "registry_allergen_ids": [Command.link(self.nuts.id)],
                "registry_severe_allergen_ids": [Command.link(self.nuts.id)],
            }
        )
        export = self.member.with_user(self.pii_user)._registry_access_export()
        self.assertEqual(export["profile"]["severe_allergies"], [self.nuts.name])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE customer_consent SET withdrawn_at = now(), withdrawn_by_id = %s WHERE id = %s",
            [self.env.uid, consent.id],
        )
        self.assertEqual(self.severe_rows(), [], "withdrawn by SQL: the severity goes with the allergies")
        self.env.invalidate_all()
        self.consent()
        self.member.write(
            {
                "registry_allergen_ids": [Command.link(self.milk.id)],
                "registry_severe_allergen_ids": [Command.link(self.milk.id)],
            }
        )
        self.assertEqual(self.severe_rows(), [self.milk.id])
        self.member.with_user(self.pii_user)._registry_erase("request")
        self.assertEqual(self.severe_rows(), [], "erased")


@tagged("post_install", "-at_install")
class TestTillAllergens(PosPrivacyCase):
    """What the till loads and what the server keeps of the warning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")
        cls.gluten = cls.env.ref("customer_registry.allergen_gluten")
        cls.pie = cls.create_product("Pecan Pie", cls.categ_basic, 65.0)
        cls.pie.product_tmpl_id.write(
            {
                "allergen_contains_ids": [Command.set((cls.nuts | cls.gluten).ids)],
                "allergen_trace_ids": [Command.set(cls.milk.ids)],
            }
        )
        cls.croissant = cls.create_product("Butter Croissant", cls.categ_basic, 38.0)
        cls.croissant.product_tmpl_id.write({"allergen_contains_ids": [Command.set((cls.milk | cls.gluten).ids)]})
        Partner = cls.env["res.partner"]
        cls.allergic = Partner.create(
            {
                "name": "Nora Nøtt",
                "email": "nora@example.com",
                "phone": "+47 900 11 222",
                "zip": "5003",
                "is_registry_member": True,
                "registry_greeting_name": "Nora",
            }
        )
        cls.env["customer.consent"].create({"partner_id": cls.allergic.id, "purpose": "health"})
        # Nuts: severe (traces too); milk: only what contains it.
        cls.allergic.write(
            {
                "registry_allergen_ids": [Command.set((cls.nuts | cls.milk).ids)],
                "registry_severe_allergen_ids": [Command.set(cls.nuts.ids)],
            }
        )
        cls.no_consent = Partner.create(
            {"name": "Uten Samtykke", "email": "uten@example.com", "is_registry_member": True}
        )
        cls.withdrawn = Partner.create({"name": "Trukket Tilbake", "is_registry_member": True})
        consent = cls.env["customer.consent"].create({"partner_id": cls.withdrawn.id, "purpose": "health"})
        cls.withdrawn.write({"registry_allergen_ids": [Command.set(cls.milk.ids)]})
        consent.action_withdraw()

    def load(self, user=None):
        session = self.config.current_session_id.with_user(user or self.cashier)
        return session.load_data([])

    def test_a_member_fetched_again_after_withdrawal_has_no_allergies_in_the_till(self):
        # The till fetches a member again (partner search, card scan) with res.partner.get_new_partner:
        # the allergy field is always in the answer, so the till's copy is replaced, not kept.
        Partner = self.env["res.partner"].with_user(self.cashier)
        member = self.env["res.partner"].create({"name": "Mona Melk", "is_registry_member": True})
        consent = self.env["customer.consent"].create({"partner_id": member.id, "purpose": "health"})
        member.write({"registry_allergen_ids": [Command.set(self.milk.ids)]})

        def fetched():
            self.env.invalidate_all()
            rows = Partner.get_new_partner(self.config.id, [("id", "=", member.id)], 0)["res.partner"]
            self.assertEqual([row["id"] for row in rows], member.ids)
            return rows[0]

        self.assertEqual(fetched()["registry_allergies"], str(self.milk.id))
        consent.action_withdraw()
        row = fetched()
        self.assertIn("registry_allergies", row)
        self.assertIs(row["registry_allergies"], False)

    def test_till_loads_allergens_of_products_and_consenting_members_only(self):
        data = self.load()
        allergens = {row["id"]: row["name"] for row in data["customer.allergen"]}
        self.assertEqual(len(allergens), 14, "the 14 allergens, to name them in the warning")
        templates = {row["id"]: row for row in data["product.template"]}
        pie = templates[self.pie.product_tmpl_id.id]
        self.assertEqual(sorted(pie["allergen_contains_ids"]), sorted((self.nuts | self.gluten).ids))
        self.assertEqual(pie["allergen_trace_ids"], self.milk.ids)
        partners = {row["id"]: row for row in data["res.partner"]}
        for member in (self.allergic, self.no_consent, self.withdrawn):
            self.assertIn(member.id, partners, member.name)
        # One compact field per member: allergen ids, "!" for a severe one (traces too).
        self.assertEqual(
            sorted(partners[self.allergic.id]["registry_allergies"].split(",")),
            sorted([f"{self.nuts.id}!", str(self.milk.id)]),
        )
        for member in (self.no_consent, self.withdrawn):
            row = partners[member.id]
            self.assertIs(row["registry_allergies"], False, member.name)
            self.assertFalse({"registry_allergen_ids", "registry_severe_allergen_ids"} & set(row), member.name)
            health = {key for key in row if "consent" in key or "diet" in key}
            self.assertFalse(health, "no consent flag or diet reaches the till")
        # No contact data of the members, with the new fields loaded.
        text = json.dumps(data, default=str, ensure_ascii=False)
        for value in (
            "Nora Nøtt",
            "nora@example.com",
            "+47 900 11 222",
            "Uten Samtykke",
            "uten@example.com",
            "Trukket Tilbake",
        ):
            self.assertNotIn(value, text)
        self.assertNotEqual(partners[self.allergic.id]["zip"], "5003")

    def sync_lines(self, customer, lines, **order_values):
        # The till sends the cashier as the order's user.
        order_values.setdefault("user_id", self.cashier.id)
        data = self.create_ui_order_data(lines, customer=customer, pos_order_ui_args=order_values)
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        # The order lines' allergen warnings are for registry administrators: read with sudo.
        return self.env["pos.order"].sudo().browse(result["pos.order"][0]["id"])

    def test_confirmed_warning_is_kept_with_who_and_when(self):
        # The till's time, a minute ago (within the order: see test_allergen_order_lines).
        told_at = fields.Datetime.to_string(fields.Datetime.now() - timedelta(minutes=1))
        order = self.sync_lines(
            self.allergic,
            [
                {
                    "product": self.pie,
                    "quantity": 1,
                    "registry_allergen_confirmed_ids": [self.nuts.id],
                    "registry_allergen_confirmed_at": told_at,
                },
                {
                    "product": self.croissant,
                    "quantity": 2,
                    "registry_allergen_confirmed_ids": [self.milk.id],
                    "registry_allergen_confirmed_at": told_at,
                },
            ],
        )
        self.assertEqual(order.state, "paid")
        pie_line = order.lines.filtered(lambda line: line.product_id == self.pie)
        croissant_line = order.lines - pie_line
        self.assertRecordValues(
            pie_line | croissant_line,
            [
                {
                    "registry_allergen_confirmed_ids": self.nuts.ids,
                    "registry_allergen_unconfirmed_ids": [],
                    "registry_allergen_confirmed_by_id": self.cashier.id,
                    "registry_allergen_confirmed_at": fields.Datetime.to_datetime(told_at),
                },
                {
                    "registry_allergen_confirmed_ids": self.milk.ids,
                    "registry_allergen_unconfirmed_ids": [],
                    "registry_allergen_confirmed_by_id": self.cashier.id,
                    "registry_allergen_confirmed_at": fields.Datetime.to_datetime(told_at),
                },
            ],
        )

    def test_severe_member_is_warned_about_traces(self):
        # The pie may contain milk: Nora's milk allergy is not severe, her nut allergy is.
        nut_traces = self.create_product("Havrekjeks", self.categ_basic, 20.0)
        nut_traces.product_tmpl_id.allergen_trace_ids = self.nuts
        order = self.sync_lines(self.allergic, [(nut_traces, 1), (self.pie, 1)])
        self.assertEqual(
            {line.product_id: line.registry_allergen_unconfirmed_ids for line in order.lines},
            {nut_traces: self.nuts, self.pie: self.nuts},
            "traces warn a severe allergy only; milk traces in the pie do not warn a milk allergy that is not severe",
        )

    @mute_logger("odoo.addons.customer_registry.models.pos_order_allergen")
    def test_unconfirmed_conflict_is_recorded_and_the_order_kept(self):
        # An outdated till that knows nothing of allergens: the order is paid, the conflict visible.
        order = self.sync_lines(self.allergic, [(self.croissant, 1), (self.product, 1)])
        self.assertEqual(order.state, "paid")
        croissant_line = order.lines.filtered(lambda line: line.product_id == self.croissant)
        self.assertEqual(croissant_line.registry_allergen_unconfirmed_ids, self.milk)
        self.assertFalse(croissant_line.registry_allergen_confirmed_by_id)
        self.assertFalse((order.lines - croissant_line).registry_allergen_unconfirmed_ids)
        found = self.env["pos.order"].sudo().search([("lines.registry_allergen_unconfirmed_ids", "!=", False)])
        self.assertEqual(found, order, "the backend filter finds it")

    @mute_logger("odoo.addons.customer_registry.models.pos_order_allergen")
    def test_forged_confirmation_is_not_kept(self):
        # Milk "confirmed" on a product without milk, and a confirmation for a customer without consent.
        order = self.sync_lines(
            self.allergic,
            [
                {
                    "product": self.product,
                    "quantity": 1,
                    "registry_allergen_confirmed_ids": [self.milk.id],
                    "registry_allergen_confirmed_at": "2026-01-05 10:15:00",
                }
            ],
        )
        self.assertRecordValues(
            order.lines,
            [
                {
                    "registry_allergen_confirmed_ids": [],
                    "registry_allergen_confirmed_by_id": False,
                    "registry_allergen_confirmed_at": False,
                }
            ],
        )
        order = self.sync_lines(
            self.no_consent,
            [{"product": self.croissant, "quantity": 1, "registry_allergen_confirmed_ids": [self.milk.id]}],
        )
        self.assertFalse(order.lines.registry_allergen_confirmed_ids)
        self.assertEqual(order.state, "paid")

    def test_erasure_removes_the_confirmations_of_the_members_orders(self):
        order = self.sync_lines(
            self.allergic,
            [
                {
                    "product": self.croissant,
                    "quantity": 1,
                    "registry_allergen_confirmed_ids": [self.milk.id],
                    "registry_allergen_confirmed_at": "2026-01-05 10:15:00",
                },
                (self.pie, 1),
            ],
        )
        self.assertTrue(order.lines.registry_allergen_confirmed_ids)
        self.assertTrue(order.lines.registry_allergen_unconfirmed_ids)
        self.allergic.with_user(self.pii_user)._registry_erase("request")
        order.lines.invalidate_recordset()
        self.assertRecordValues(
            order.lines,
            [
                {
                    "registry_allergen_confirmed_ids": [],
                    "registry_allergen_unconfirmed_ids": [],
                    "registry_allergen_confirmed_by_id": False,
                    "registry_allergen_confirmed_at": False,
                }
            ]
            * 2,
        )
        self.assertEqual(order.amount_total, sum(order.lines.mapped("price_subtotal_incl")), "the order stays")
