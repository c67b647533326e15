from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestCustomerSegment(RetentionCase):
    """Who bought coffee beans in postal area 50 within 6 months, and who may be mailed.

    Member (postal area): purchases, days ago (20 each unless said); marketing consent; email
      M1 (50): beans 30                      consent   email
      M2 (50): beans 300 (25)               consent   email
      M3 (51): beans 10                      consent   email
      M4 (50): tea 10 (8), beans 20           -         email
      M5 (50): beans 5                       withdrawn email
      M6 (50): never bought                  consent   email
      M7 (50): beans 2, draft order          consent   email
      M8 (50): beans 3                       consent   -
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"
        cls.shop = shop = cls._shop("Coffee Shop")
        Category = cls.env["product.category"]
        cls.coffee = Category.create({"name": "Coffee"})
        beans_category = Category.create({"name": "Beans", "parent_id": cls.coffee.id})
        tea_category = Category.create({"name": "Tea"})
        Product = cls.env["product.product"]
        cls.beans = Product.create(
            {"name": "Coffee Beans 1 kg", "categ_id": beans_category.id, "available_in_pos": True}
        )
        cls.tea = Product.create({"name": "Green Tea", "categ_id": tea_category.id, "available_in_pos": True})
        cls.members = {}
        for name, zip_code, email in [
            ("M1", "5012", "m1@example.com"),
            ("M2", "5099", "m2@example.com"),
            ("M3", "5100", "m3@example.com"),
            ("M4", "5033", "m4@example.com"),
            ("M5", "5044", "m5@example.com"),
            ("M6", "5055", "m6@example.com"),
            ("M7", "5066", "m7@example.com"),
            ("M8", "5077", False),
        ]:
            member = cls.env["res.partner"].create(
                {
                    "name": name,
                    "is_registry_member": True,
                    "zip": zip_code,
                    "email": email,
                }
            )
            cls.members[name] = member
        Consent = cls.env["customer.consent"]
        for name in ("M1", "M2", "M3", "M5", "M6", "M7", "M8"):
            Consent.create({"partner_id": cls.members[name].id, "purpose": "marketing"})
        Consent.search([("partner_id", "=", cls.members["M5"].id)]).action_withdraw()
        for name, product, days, amount, state in [
            ("M1", cls.beans, 30, 20, "paid"),
            ("M2", cls.beans, 300, 25, "done"),
            ("M3", cls.beans, 10, 20, "paid"),
            ("M4", cls.tea, 10, 8, "paid"),
            ("M4", cls.beans, 20, 20, "paid"),
            ("M5", cls.beans, 5, 20, "paid"),
            ("M7", cls.beans, 2, 20, "draft"),
            ("M8", cls.beans, 3, 20, "paid"),
        ]:
            cls._order(shop, cls.members[name], cls._days_ago(days), amount, state=state, product=product)
        cls.coffee_lovers = cls.env["customer.segment"].create(
            {
                "name": "Coffee lovers of area 50",
                "postal_areas": "50",
                "product_category_ids": [(4, cls.coffee.id)],
                "purchase_months": 6,
            }
        )

    def _names(self, partners):
        names = {member: name for name, member in self.members.items()}
        return {names[partner] for partner in partners}

    def test_area_and_category_within_the_period(self):
        self.assertEqual(self._names(self.coffee_lovers._members()), {"M1", "M4", "M5", "M8"})
        self.assertEqual(self.coffee_lovers.member_count, 4)
        action = self.coffee_lovers.action_view_members()
        listed = self.env["res.partner"].search(action["domain"])
        self.assertEqual(self._names(listed), {"M1", "M4", "M5", "M8"})
        self.coffee_lovers.purchase_months = 0
        self.assertEqual(self._names(self.coffee_lovers._members()), {"M1", "M2", "M4", "M5", "M8"})

    def test_refunded_and_free_lines_are_not_bought(self):
        # M1 brought its beans back (the refund rung up without the member); M9 got beans for free.
        m1_order = self.env["pos.order"].search([("partner_id", "=", self.members["M1"].id)])
        self._refund(m1_order, when=self._days_ago(1))
        free = self.env["res.partner"].create({"name": "M9", "is_registry_member": True, "zip": "5088"})
        self.members["M9"] = free
        self._order(self.shop, free, self._days_ago(4), 0, product=self.beans)
        self.assertEqual(self._names(self.coffee_lovers._members()), {"M4", "M5", "M8"})
        self.assertEqual(self.coffee_lovers.member_count, 3)

    def test_products_orders_spend_churn_and_consent(self):
        segment = self.coffee_lovers
        segment.write({"product_category_ids": [(5,)], "product_ids": [(4, self.tea.id)]})
        self.assertEqual(self._names(segment._members()), {"M4"})
        segment.write({"product_ids": [(5,)]})
        self.assertEqual(
            self._names(segment._members()),
            {"M1", "M2", "M4", "M5", "M6", "M7", "M8"},
            "without purchase criteria, members who never bought match too",
        )
        segment.min_orders = 2
        self.assertEqual(self._names(segment._members()), {"M4"})
        segment.write({"min_orders": 0, "min_spend": 21, "max_spend": 28})
        self.assertEqual(self._names(segment._members()), {"M2", "M4"})
        segment.write({"min_spend": 0, "max_spend": 0, "churn_state": "churned"})
        self.assertEqual(self._names(segment._members()), {"M2"})
        segment.write({"churn_state": "active", "marketing_consent": "missing"})
        self.assertEqual(self._names(segment._members()), {"M4", "M5"})

    def test_rfm_segment_criterion(self):
        metrics = self.env["customer.metrics.report"].search([("partner_id", "in", self.members["M4"].ids)])
        self.coffee_lovers.write({"product_category_ids": [(5,)], "rfm_segment": metrics.rfm_segment})
        matching = self.coffee_lovers._members()
        self.assertIn(self.members["M4"], matching)
        others = self.env["customer.metrics.report"].search([("partner_id", "in", matching.ids)])
        self.assertEqual(set(others.mapped("rfm_segment")), {metrics.rfm_segment})

    def test_loyalty_tier_criterion(self):
        program = self.env["customer.loyalty.program"].create(
            {
                "company_id": self.env.company.id,
                "tier_ids": [
                    (0, 0, {"name": "Bronze", "min_spend": 0, "multiplier": 1}),
                    (0, 0, {"name": "Silver", "min_spend": 21, "multiplier": 1.5}),
                ],
            }
        )
        bronze, silver = program.tier_ids.sorted("min_spend")
        self.env["res.partner"].union(*self.members.values())._recompute_loyalty_tier()
        # Paid in the last 12 months: M2 25, M4 8 + 20; the others 20 or less.
        self.coffee_lovers.write({"product_category_ids": [(5,)], "tier_ids": [(6, 0, silver.ids)]})
        self.assertEqual(self._names(self.coffee_lovers._members()), {"M2", "M4"})
        self.coffee_lovers.tier_ids = bronze
        self.assertEqual(self._names(self.coffee_lovers._members()), {"M1", "M5", "M6", "M7", "M8"})

    def test_mailing_export_keeps_consenting_members_with_an_email(self):
        emails, left_out = self.coffee_lovers._mailing_recipients()
        self.assertEqual({member: email for member, email in emails.items()}, {self.members["M1"]: "m1@example.com"})
        self.assertEqual(left_out, {"no_consent": 2, "no_email": 1}, "M4 and M5 have no valid consent, M8 no email")
        wizard = self.env["customer.segment.mailing.wizard"].create(
            {"segment_id": self.coffee_lovers.id, "list_name": "Coffee"}
        )
        self.assertEqual(
            (wizard.member_count, wizard.exported_count, wizard.without_consent_count, wizard.without_email_count),
            (4, 1, 2, 1),
        )
        if "mailing.list" in self.env:
            notification = wizard.action_export()
            self.assertIn(
                "left out: 2 without a valid marketing consent, 1 without an email address",
                notification["params"]["message"],
            )
            mailing_list = self.env["mailing.list"].search([("name", "=", "Coffee")])
            self.assertEqual(mailing_list.contact_ids.mapped("email"), ["m1@example.com"])
            self.assertEqual(mailing_list.contact_ids.name, self.members["M1"].pseudonym)
        else:
            with self.assertRaisesRegex(UserError, "Email Marketing"):
                wizard.action_export()

    def test_only_personal_data_readers_export(self):
        analyst = new_test_user(
            self.env, "segment_analyst", groups="base.group_user,customer_registry.group_registry_user"
        )
        segment = self.coffee_lovers.with_user(analyst)
        self.assertEqual(segment.member_count, 4, "analysts query segments by pseudonym")
        with self.assertRaises(AccessError):
            segment._mailing_recipients()
        with self.assertRaises(AccessError):
            segment.action_open_mailing_export()
