from odoo.tests import tagged

from odoo.addons.customer_registry import pseudonym as codes
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

PANEL_CODE = "0421234567808"


class TillMemberTourCommon(TestPointOfSaleHttpCommon):
    """A member with consented allergy and diet, a preference, a service note, points and a past order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("customer_registry.group_registry_manager")
        company = cls.main_pos_config.company_id
        company.country_id = cls.env.ref("base.no")  # a café in Norway: four-digit postal codes
        cls.env["ir.config_parameter"].sudo().set_param("point_of_sale.limited_customer_count", 0)
        cls.bun = cls.env["product.product"].create(
            {"name": "Panel Tour Bun", "list_price": 30.0, "available_in_pos": True, "taxes_id": [(5, 0, 0)]}
        )
        cls.health_text = cls.env["customer.consent.text"].create(
            {
                "company_id": company.id,
                "purpose": "health",
                "lang": "en_US",
                "body": "Till tour: store my allergies so the staff can warn me.",
            }
        )
        cls.member = cls.env["res.partner"].create(
            {
                "is_registry_member": True,
                "name": "Sigrid Haugland",
                "email": "sigrid.haugland@example.com",
                "phone": "+47 934 56 781",
                "registry_greeting_name": "Sigrid",
                "pseudonym": PANEL_CODE,
                "company_id": company.id,
                "registry_service_notes": "Likes a window seat",
                "registry_preference_ids": [(0, 0, {"name": "Oat milk"})],
            }
        )
        cls.env["customer.consent"].create({"partner_id": cls.member.id, "purpose": "health"})
        cls.member.write(
            {
                "registry_allergen_ids": [(4, cls.env.ref("customer_registry.allergen_nuts").id)],
                "registry_diet_ids": [(4, cls.env.ref("customer_registry.diet_vegetarian").id)],
            }
        )
        cls.env["customer.loyalty.adjustment"].create(
            {"member_id": cls.member.id, "points": 35, "reason": "Welcome"}
        ).action_post()


@tagged("post_install", "-at_install")
class TestTillMemberPanelTour(TillMemberTourCommon):
    browser_size = "768x1024"

    def test_member_panel_at_tablet_width(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        self.env["pos.order"].create(
            {
                "session_id": session.id,
                "partner_id": self.member.id,
                "state": "paid",
                "amount_tax": 0,
                "amount_total": 60,
                "amount_paid": 60,
                "amount_return": 0,
                "lines": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.bun.id,
                            "qty": 2,
                            "price_unit": 30,
                            "price_subtotal": 60,
                            "price_subtotal_incl": 60,
                        },
                    )
                ],
            }
        )
        self.start_pos_tour("customer_registry_member_panel_tour")


@tagged("post_install", "-at_install")
class TestTillEnrollmentTour(TillMemberTourCommon):
    browser_size = "390x844"

    def test_enroll_with_consent_and_print_the_code_on_a_phone(self):
        self.main_pos_config.registry_enroll_new_customers = True
        self.start_pos_tour("customer_registry_enroll_at_till_tour")
        identity = self.env["customer.identity"].sudo().search([("email", "=", "tora.berg@example.com")])
        member = identity.partner_id
        self.assertEqual((member.name, identity.zip, member.email), ("Tora", "5003", False))
        self.assertTrue(codes.is_valid(member.pseudonym))
        consent = member.sudo().registry_consent_ids
        self.assertEqual((consent.purpose, consent.text_id), ("health", self.health_text))
        order = self.env["pos.order"].search([("partner_id", "=", member.id)])
        self.assertEqual(order.pseudonym, member.pseudonym)


@tagged("post_install", "-at_install")
class TestTillEnrollmentDesktopTour(TestTillEnrollmentTour):
    """The same enrollment on a desktop till (1366 px): the dialog replaces the contact form there too."""

    browser_size = "1366x768"


@tagged("post_install", "-at_install")
class TestTillMistypedCodeTour(TillMemberTourCommon):
    def test_mistyped_code_says_what_is_wrong(self):
        self.start_pos_tour("customer_registry_mistyped_code_tour")


@tagged("post_install", "-at_install")
class TestTillBarcodeSearchTour(TestPointOfSaleHttpCommon):
    """A thirteen-digit search that is no card code (a customer's own barcode) still reaches the server."""

    def test_ordinary_customer_found_by_a_thirteen_digit_barcode(self):
        # Not loaded with the till: only the server's search finds it.
        self.env["ir.config_parameter"].sudo().set_param("point_of_sale.limited_customer_count", "0")
        self.env["res.partner"].create({"name": "Barcode Customer", "barcode": "5901234123457"})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("customer_registry_barcode_search_tour")
