from odoo.tests import HttpCase, new_test_user, tagged

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestRetentionDashboard(RetentionCase, HttpCase):
    """The Members dashboard: who sees it, what it reads, and a tour from it to a report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"
        cls.shop = cls._shop("Dashboard Shop")
        cls.members = [cls._member(f"Dashboard member {n}") for n in range(3)]
        for n, member in enumerate(cls.members):
            for days in range(n + 1):
                cls._order(cls.shop, member, cls._days_ago(35 * days), 40.0)
        cls.dashboard = cls.env.ref("customer_registry.spreadsheet_dashboard_members")
        cls.cashier = new_test_user(
            cls.env, login="dashboard_cashier", groups="base.group_user,point_of_sale.group_pos_user"
        )
        cls.other_company = cls.env["res.company"].create({"name": "Dashboard Other Company"})
        cls.other_cashier = new_test_user(
            cls.env,
            login="dashboard_other_cashier",
            groups="base.group_user,point_of_sale.group_pos_user",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        cls.accountant = new_test_user(cls.env, login="dashboard_no_registry", groups="base.group_user")

    def test_only_registry_users_see_the_dashboard(self):
        Dashboard = self.env["spreadsheet.dashboard"]
        self.assertIn(self.dashboard, Dashboard.with_user(self.cashier).search([]))
        self.assertNotIn(self.dashboard, Dashboard.with_user(self.accountant).search([]))

    def test_a_cashier_of_another_company_reads_only_their_company(self):
        Kpi = self.env["customer.kpi.report"]
        mine = Kpi.with_user(self.cashier).formatted_read_group([], [], ["new_members:sum"])
        self.assertEqual(mine[0]["new_members:sum"], 3)
        theirs = Kpi.with_user(self.other_cashier).formatted_read_group([], [], ["new_members:sum"])
        self.assertFalse(theirs[0]["new_members:sum"], "the other company's cashier sees none of these members")
        self.assertIn(self.dashboard, self.env["spreadsheet.dashboard"].with_user(self.other_cashier).search([]))

    def test_tour_opens_the_dashboard_and_a_report_from_it(self):
        self.start_tour(
            "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
            "CustomerRegistryDashboardTour",
            login="dashboard_cashier",
        )
