import json

from odoo.tests import tagged

from odoo.addons.customer_registry import pseudonym as codes
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

# The codes printed on the cards the tours scan (see static/tests/tours).
INGA_CODE = "0421234567808"
UNNAMED_CODE = "0429876543273"

INGA_IDENTITY = {
    "name": "Ingrid Kvalsvik-Thorsen",
    "email": "ingrid.kvalsvik@example.com",
    "phone": "+47 912 34 567",
    "street": "Solsikkeveien 417",
    "street2": "Leilighet H0203",
    "zip": "4871",
    "city": "Nordre Testvik",
}


def partner_search_domain(query):
    """The domain the POS customer search sends for what the cashier typed."""
    fields = [
        "name",
        "parent_name",
        "phone_mobile_search",
        "email",
        "barcode",
        "street",
        "zip",
        "city",
        "state_id",
        "country_id",
        "vat",
    ]
    return [*["|"] * (len(fields) - 1), *[[field, "ilike", f"{query}%"] for field in fields]]


@tagged("post_install", "-at_install")
class TestPosMember(TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        # The members were handed pre-printed cards: they are enrolled with the printed codes.
        cls.inga = Partner.create(
            {**INGA_IDENTITY, "is_registry_member": True, "registry_greeting_name": "Inga", "pseudonym": INGA_CODE}
        )
        cls.unnamed = Partner.create(
            {"name": "Per Hansen", "email": "per.h@example.com", "is_registry_member": True, "pseudonym": UNNAMED_CODE}
        )

    def assertNoIdentityIn(self, data, identity=None):
        text = json.dumps(data, default=str)
        for key, value in (identity or INGA_IDENTITY).items():
            self.assertNotIn(value, text, f"the member's {key} was sent to the register")

    def test_register_data_shows_label_and_code_not_identity(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        pos_session = self.main_pos_config.current_session_id.with_user(self.pos_user)
        data = pos_session.load_data([])
        partners = {partner["id"]: partner for partner in data["res.partner"]}
        self.assertIn(self.inga.id, partners, "the member is among the customers loaded at opening")
        inga = partners[self.inga.id]
        self.assertEqual((inga["name"], inga["pseudonym"], inga["is_registry_member"]), ("Inga", INGA_CODE, True))
        self.assertEqual(partners[self.unnamed.id]["name"], UNNAMED_CODE)
        zip_holders = [partner["id"] for partner in data["res.partner"] if partner.get("zip") == INGA_IDENTITY["zip"]]
        self.assertFalse(zip_holders)
        self.assertNoIdentityIn(data, {key: value for key, value in INGA_IDENTITY.items() if key != "zip"})
        self.assertNoIdentityIn(data, {"name": "Per Hansen", "email": "per.h@example.com"})
        # The allergy field is loaded too (the till warns from it): empty without a health consent.
        self.assertIs(inga["registry_allergies"], False)
        self.assertFalse({key for key in inga if "consent" in key or "diet" in key})

    def test_typed_card_code_finds_the_member(self):
        Partner = self.env["res.partner"].with_user(self.pos_user)
        for typed in (INGA_CODE, codes.format_code(INGA_CODE), "042-1234-5678-08"):
            result = Partner.get_new_partner(self.main_pos_config.id, partner_search_domain(typed), 0)
            self.assertEqual([partner["id"] for partner in result["res.partner"]], [self.inga.id], typed)
            self.assertEqual(result["res.partner"][0]["name"], "Inga")
            self.assertNoIdentityIn(result)

    def test_customer_search_does_not_find_members_by_identity(self):
        Partner = self.env["res.partner"].with_user(self.pos_user)
        for key in ("name", "email", "phone", "street", "city", "zip"):
            typed = INGA_IDENTITY[key][:6]
            result = Partner.get_new_partner(self.main_pos_config.id, partner_search_domain(typed), 0)
            self.assertNotIn(self.inga.id, [partner["id"] for partner in result["res.partner"]], key)

    def test_scanned_and_typed_card_codes_select_the_member(self):
        # Open with no customer preloaded, so that the register asks the server for the card's owner.
        self.env["ir.config_parameter"].sudo().set_param("point_of_sale.limited_customer_count", 0)
        self.start_pos_tour("customer_registry_member_card_tour")
        order = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)])
        self.assertEqual((order.partner_id, order.pseudonym), (self.inga, INGA_CODE))
