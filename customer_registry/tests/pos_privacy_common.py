from odoo.tests import new_test_user

from odoo.addons.point_of_sale.tests.common import TestPoSCommon


class PosPrivacyCase(TestPoSCommon):
    """An open POS session, a cashier and a personal-data user, and requests "committed" as Odoo does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        cls.product = cls.create_product("Kanelbolle", cls.categ_basic, 42.0)
        prefix = f"cr_{cls.__name__.lower()}"
        cls.cashier = new_test_user(
            cls.env,
            f"{prefix}_cashier",
            groups="base.group_user,base.group_partner_manager,point_of_sale.group_pos_user",
        )
        cls.pii_user = new_test_user(
            cls.env,
            f"{prefix}_pii",
            groups="base.group_user,base.group_partner_manager,customer_registry.group_registry_pii",
        )

    def setUp(self):
        super().setUp()
        self.open_new_session()

    def commit_like(self):
        """What a request's commit does: flush and run the precommit hooks (mail's tracking)."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def sync(self, customer, quantity=1, **order_values):
        """A paid order of the cashier's, synced as the POS client sends it."""
        data = self.create_ui_order_data([(self.product, quantity)], customer=customer, pos_order_ui_args=order_values)
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])
