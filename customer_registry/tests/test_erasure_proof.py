"""The erasure proof: after erasing members who came through every channel, a pg_dump holds nothing of them.

A test case's transaction is never committed, so another process (pg_dump) cannot see its rows.
This test therefore works on its own database, a copy of the test database's committed state: there
each step is its own committed transaction, as requests are, then pg_dump reads the whole database.
"""
# Every step commits in the test's own copy of the database (never in the test database itself).
# pylint: disable=invalid-commit

import base64
import contextlib
import re
import subprocess
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config
from odoo.tools.misc import exec_pg_environ, find_pg_tool

PEOPLE = {
    "backend": {
        "name": "Zelda Qverasure",
        "email": "zelda.qverasure@example.com",
        "phone": "+47 48 77 12 93",
        "street": "Qverasuregata 5",
    },
    "import": {
        "name": "Ida Qvimportsen",
        "email": "ida.qvimportsen@example.com",
        "phone": "+47 48 77 12 94",
        "street": "Qvimportveien 7",
    },
    "pos": {
        "name": "Pia Qvposdialog",
        "email": "pia.qvposdialog@example.com",
        "phone": "+47 48 77 12 95",
        "street": "Qvposgata 9",
    },
}
OLD_STREET = "Qverasure Old Road 1"


def searched_values():
    """What must not be left: each value as given, the surnames alone and the phone numbers' digits."""
    values = [OLD_STREET]
    for person in PEOPLE.values():
        values += [*person.values(), person["name"].split()[-1], re.sub(r"\D", "", person["phone"])[2:]]
    return values


@tagged("post_install", "-at_install")
class TestErasureProof(TransactionCase):
    def setUp(self):
        super().setUp()
        self.source = self.env.cr.dbname
        self.copy = f"{self.source}_erasure_proof"
        self.pg_environ = exec_pg_environ()
        self.drop_copy()
        subprocess.run([find_pg_tool("createdb"), "-T", "template0", self.copy], env=self.pg_environ, check=True)
        self.addCleanup(self.drop_copy)
        dump = subprocess.Popen(
            [find_pg_tool("pg_dump"), "--no-owner", self.source], env=self.pg_environ, stdout=subprocess.PIPE
        )
        subprocess.run(
            [find_pg_tool("psql"), "-q", "-X", "-o", "/dev/null", self.copy],
            env=self.pg_environ,
            stdin=dump.stdout,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        self.assertEqual(dump.wait(), 0)
        # Loading a registry with tests enabled would run every module's at_install tests on the copy.
        with patch.dict(config.options, {"test_enable": False}):
            self.registry_copy = Registry(self.copy)

    def drop_copy(self):
        with contextlib.suppress(KeyError):
            Registry.delete(self.copy)
        sql_db.close_db(self.copy)
        subprocess.run([find_pg_tool("dropdb"), "--if-exists", self.copy], env=self.pg_environ, check=True)

    @contextlib.contextmanager
    def request(self, user_id=SUPERUSER_ID, **context):
        """One committed transaction in the copy, as a request of this user."""
        with self.registry_copy.cursor() as cr:
            yield api.Environment(cr, user_id, context)

    def pg_dump(self):
        dump = subprocess.run(
            [find_pg_tool("pg_dump"), "--no-owner", self.copy],
            env=self.pg_environ,
            capture_output=True,
            text=True,
            check=True,
        )
        return dump.stdout.lower()

    def order(self, env, session, partner, amount, product):
        order = (
            env["pos.order"]
            .with_company(session.company_id)
            .create(
                {
                    "lines": [
                        fields.Command.create(
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "qty": 1,
                                "price_unit": amount,
                                "price_subtotal": amount,
                                "price_subtotal_incl": amount,
                            }
                        )
                    ],
                    "session_id": session.id,
                    "partner_id": partner.id,
                    "amount_total": amount,
                    "amount_tax": 0.0,
                    "amount_paid": amount,
                    "amount_return": 0.0,
                    "state": "paid",
                }
            )
        )
        order._loyalty_settle()
        return order

    def build(self):
        """Members whose data came in through every channel, each step committed."""
        ids = {}
        with self.request() as env:
            company = env.company
            if not env["account.journal"].search_count([("type", "=", "bank"), ("company_id", "=", company.id)]):
                env["account.journal"].create({"name": "Bank", "type": "bank", "code": "BKQV"})
            config = env["pos.config"].create({"name": "Qv Shop"})
            ids["session"] = env["pos.session"].create({"config_id": config.id}).id
            if not env["customer.loyalty.program"].search_count([("company_id", "=", company.id)]):
                env["customer.loyalty.program"].create({"points_per_amount": 1.0})
            ids["product"] = env["product.product"].create({"name": "Qv Bun", "available_in_pos": True}).id
            pii = new_test_user(
                env,
                "cr_proof_pii",
                groups="base.group_user,base.group_partner_manager,customer_registry.group_registry_pii",
            )
            cashier = new_test_user(
                env,
                "cr_proof_cashier",
                groups="base.group_user,base.group_partner_manager,point_of_sale.group_pos_user",
            )
            ids["pii"], ids["cashier"] = pii.id, cashier.id
        backend = PEOPLE["backend"]
        # Backend: an ordinary contact, edited (tracked) in a later request, buying before it is enrolled.
        with self.request(ids["pii"]) as env:
            ids["backend"] = env["res.partner"].create({**backend, "street": OLD_STREET}).id
        with self.request(ids["pii"]) as env:
            env["res.partner"].browse(ids["backend"]).street = backend["street"]
        with self.request() as env:
            session, product = env["pos.session"].browse(ids["session"]), env["product.product"].browse(ids["product"])
            self.order(env, session, env["res.partner"].browse(ids["backend"]), 30.0, product)
        with self.request(ids["pii"]) as env:
            env["res.partner"].browse(ids["backend"]).write(
                {"is_registry_member": True, "registry_greeting_name": "Zelda"}
            )
        # Import: a file of customers, under the Members menu's default.
        with self.request(ids["pii"], default_is_registry_member=True) as env:
            person = PEOPLE["import"]
            wizard = env["base_import.import"].create(
                {
                    "res_model": "res.partner",
                    "file": ("name,email,phone,street\n" + ",".join(person.values()) + "\n").encode(),
                    "file_type": "text/csv",
                    "file_name": "customers.csv",
                }
            )
            result = wizard.execute_import(
                ["name", "email", "phone", "street"], [], {"quoting": '"', "separator": ",", "has_headers": True}
            )
            self.assertFalse(result["messages"], result["messages"])
            ids["import"] = result["ids"][0]
        # The POS customer dialog: the cashier creates the customer, enrolled by the shop's setting.
        with self.request(ids["cashier"], default_is_registry_member=True) as env:
            ids["pos"] = env["res.partner"].create(PEOPLE["pos"]).id
        # Life as a member: chatter, an attachment, notes, orders, an emailed receipt, the marketing list.
        with self.request() as env:
            session, product = env["pos.session"].browse(ids["session"]), env["product.product"].browse(ids["product"])
            zelda = env["res.partner"].browse(ids["backend"])
            zelda.registry_service_notes = "Zelda likes the corner table"
            zelda.message_post(body="Zelda Qverasure called about her order")
            env["ir.attachment"].create(
                {
                    "name": "qverasure.txt",
                    "raw": b"Zelda Qverasure, Qverasuregata 5",
                    "res_model": "res.partner",
                    "res_id": zelda.id,
                }
            )
            for key, amount in (("backend", 42.0), ("import", 12.5), ("pos", 8.0)):
                order = self.order(env, session, env["res.partner"].browse(ids[key]), amount, product)
                order.general_customer_note = f"{PEOPLE[key]['name']} collects at 5"
            order.with_user(ids["cashier"]).action_send_receipt(
                PEOPLE["pos"]["email"], base64.b64encode(b"jpg").decode(), False
            )
            env["res.partner"].create({"name": "Qv Supplier"}).message_post(
                body="Regards, Zelda Qverasure", author_id=zelda.id, message_type="comment"
            )
            for key in PEOPLE:
                env["customer.consent"].create({"partner_id": ids[key], "purpose": "marketing"})
        with self.request(ids["pii"]) as env:
            segment = env["customer.segment"].create({"name": "Qv customers"})
            mailing_list, _left_out = segment._export_to_mailing_list("Qv newsletter")
            self.assertEqual(len(mailing_list.sudo().contact_ids), 3)
        return ids

    def test_a_dump_after_erasure_holds_nothing_of_the_person_and_the_books_still_add_up(self):
        if "mailing.list" not in self.env:
            self.fail("Email Marketing (mass_mailing) is installed in the test database: tools/test installs it")
        ids = self.build()
        values = searched_values()
        dump = self.pg_dump()
        # (The old street was tracked, and dropped at enrollment already.)
        given = [value for person in PEOPLE.values() for value in person.values()]
        self.assertEqual([value for value in given if value.lower() not in dump], [], "the dump finds what was stored")
        with self.request() as env:
            members = env["res.partner"].browse([ids[key] for key in PEOPLE])
            self.assertEqual(members.mapped("is_registry_member"), [True] * 3)
            orders = env["pos.order"].search([("partner_id", "in", members.ids)])
            before = {order.id: (order.amount_total, order.pseudonym) for order in orders}
            self.assertEqual(len(before), 4)
            before_entries = env["customer.loyalty.entry"].search([("member_id", "in", members.ids)]).ids
            self.assertTrue(before_entries)
            points = {member.id: member.loyalty_balance for member in members}
            for person in PEOPLE.values():
                lookup = env["privacy.lookup.wizard"].create({"name": person["name"], "email": person["email"]})
                lookup.action_lookup()
                self.assertTrue(lookup.line_ids, f"privacy_lookup finds {person['name']} before the erasure")
        with self.request(ids["pii"], active_model="res.partner", active_ids=[ids[key] for key in PEOPLE]) as env:
            env["customer.erasure.wizard"].create({"reason": "request", "confirmed": True}).action_erase()

        dump = self.pg_dump()
        self.assertEqual([value for value in values if value.lower() in dump], [], "left in the database")
        with self.request() as env:
            for person in PEOPLE.values():
                lookup = env["privacy.lookup.wizard"].create({"name": person["name"], "email": person["email"]})
                lookup.action_lookup()
                self.assertFalse(lookup.line_ids, f"privacy_lookup finds {person['name']}: {lookup.line_ids}")
            members = env["res.partner"].with_context(active_test=False).browse([ids[key] for key in PEOPLE])
            self.assertTrue(all(members.mapped("registry_erased_at")))
            orders = env["pos.order"].browse(list(before))
            self.assertEqual({order.id: (order.amount_total, order.pseudonym) for order in orders}, before)
            entries = env["customer.loyalty.entry"].search([("member_id", "in", members.ids)])
            self.assertEqual(sorted(entries.ids), sorted(before_entries))
            for member in members:
                self.assertEqual(member.loyalty_balance, points[member.id])
                self.assertEqual(
                    sum(entries.filtered(lambda entry, member=member: entry.member_id == member).mapped("points")),
                    member.loyalty_balance,
                    "the ledger still adds up to the balance",
                )
