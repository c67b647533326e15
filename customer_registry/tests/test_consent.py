from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import RegistryCase


@tagged("post_install", "-at_install")
class TestConsent(RegistryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")
        cls.vegan = cls.env.ref("customer_registry.diet_vegan")

    def give(self, purpose, user=None):
        Consent = self.env["customer.consent"].with_user(user or self.cashier)
        return Consent.create({"partner_id": self.member.id, "purpose": purpose})

    def test_allergies_are_stored_only_with_health_consent(self):
        member = self.member.with_user(self.cashier)
        with self.assertRaisesRegex(ValidationError, "consent"):
            member.write({"registry_allergen_ids": [(4, self.nuts.id)]})
        with self.assertRaisesRegex(ValidationError, "consent"):
            member.write({"registry_diet_ids": [(4, self.vegan.id)]})
        self.give("marketing")
        with self.assertRaisesRegex(ValidationError, "consent"):
            member.write({"registry_allergen_ids": [(4, self.nuts.id)]})
        self.give("health")
        member.write(
            {"registry_allergen_ids": [(4, self.nuts.id), (4, self.milk.id)], "registry_diet_ids": [(4, self.vegan.id)]}
        )
        self.assertEqual(member.registry_allergen_ids, self.nuts | self.milk)

    def test_consent_records_who_and_when(self):
        consent = self.give("health")
        self.assertRecordValues(consent, [{"recorded_by_id": self.cashier.id, "is_valid": True, "withdrawn_at": False}])
        self.assertTrue(consent.given_at)
        consent.with_user(self.registry_user).action_withdraw()
        self.assertRecordValues(consent, [{"withdrawn_by_id": self.registry_user.id, "is_valid": False}])
        self.assertTrue(consent.withdrawn_at)

    def test_withdrawal_erases_health_data(self):
        consent = self.give("health")
        self.member.write({"registry_allergen_ids": [(4, self.nuts.id)], "registry_diet_ids": [(4, self.vegan.id)]})
        consent.with_user(self.cashier).action_withdraw()
        self.assertFalse(self.member.has_health_consent)
        self.assertFalse(self.member.registry_allergen_ids)
        self.assertFalse(self.member.registry_diet_ids)
        with self.assertRaisesRegex(ValidationError, "consent"):
            self.member.write({"registry_allergen_ids": [(4, self.nuts.id)]})

    def test_another_valid_health_consent_keeps_the_data(self):
        first = self.give("health")
        self.give("health")
        self.member.write({"registry_allergen_ids": [(4, self.nuts.id)]})
        first.action_withdraw()
        self.assertEqual(self.member.registry_allergen_ids, self.nuts)

    def test_withdrawing_marketing_keeps_health_data(self):
        self.give("health")
        marketing = self.give("marketing")
        self.member.write({"registry_allergen_ids": [(4, self.nuts.id)]})
        self.assertTrue(self.member.has_marketing_consent)
        marketing.action_withdraw()
        self.assertFalse(self.member.has_marketing_consent)
        self.assertEqual(self.member.registry_allergen_ids, self.nuts)

    def test_consent_evidence_cannot_be_edited_or_deleted(self):
        consent = self.give("health")
        with self.assertRaises(UserError):
            consent.write({"given_at": "2020-01-01 00:00:00"})
        with self.assertRaises(UserError):
            consent.write({"purpose": "marketing"})
        with self.assertRaises(AccessError):
            consent.with_user(self.registry_user).unlink()
        with self.assertRaises(UserError):
            consent.unlink()
        self.assertTrue(consent.exists())
