from datetime import UTC, datetime, timedelta

from odoo.tests import new_test_user, tagged

from odoo.addons.customer_registry.report.retention_sql import RFM_SEGMENT_CASE

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestCustomerMetrics(RetentionCase):
    """Five members of one company, figures worked out by hand.

    Days ago (amount) of each purchase, refunds negative:
      A: 10 (40), 40 (60), 100 (50), 400 (30)            4 purchases, spend 180
      B: 5, 20, 60 (100 each), 90, 120 (25 each), 4 (-50) 5 purchases, spend 300
      C: 3 (20)                                           1 purchase,  spend 20
      D: 200 (80), 230 (90), 260 (100), 300 (70)          4 purchases, spend 340
      E: 500 (15)                                         1 purchase,  spend 15
    Scores against fixed yardsticks (churn window 180 days; the company's average purchase is
    spend / purchases = 855 / 15 = 57):
      R by days since the last purchase: 7 or fewer, or a quarter of the window (45) 5, half (90) 4,
        the window (180) 3, twice the window (360) 2, more 1: A 5, B 5, C 5, D 2, E 1
      F by purchases (1, 2, 3-4, 5-9, 10+): A 3, B 4, C 1, D 3, E 1
      M by spend in average purchases, on F's rungs: A 180/57 = 3.2 -> 3, B 5.3 -> 4, C 0.4 -> 1,
        D 6.0 -> 4, E 0.3 -> 1
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.tz = "UTC"
        cls.company.registry_churn_days = 180
        cls.company.registry_lifespan_years = 3
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop Company"})
        cls.other_company.partner_id.tz = "UTC"
        shop = cls._shop("Main Shop")
        other_shop = cls._shop("Other Shop", cls.other_company)
        cls.members = {name: cls._member(name) for name in "ABCDEF"}
        # A member belongs to one company: G joined the other shop, and so did A (with a card of its own).
        cls.members["G"] = cls._member("G", company=cls.other_company)
        cls.a_at_other_shop = cls._member("A at the other shop", company=cls.other_company)
        history = {
            "A": [(10, 40), (40, 60), (100, 50), (400, 30)],
            "B": [(5, 100), (20, 100), (60, 100), (90, 25), (120, 25), (4, -50)],
            "C": [(3, 20)],
            "D": [(200, 80), (230, 90), (260, 100), (300, 70)],
            "E": [(500, 15)],
        }
        for name, orders in history.items():
            for days, amount in orders:
                cls._order(shop, cls.members[name], cls._days_ago(days), amount)
        # Not counted: a draft and a cancelled order, an order without a member, other companies' orders.
        cls._order(shop, cls.members["A"], cls._days_ago(1), 500, state="draft")
        cls._order(shop, cls.members["E"], cls._days_ago(1), 500, state="cancel")
        cls._order(shop, False, cls._days_ago(1), 999)
        cls._order(other_shop, cls.members["G"], cls._days_ago(2), 1000)
        cls._order(other_shop, cls.a_at_other_shop, cls._days_ago(2), 1000)

    def _rows(self, env=None):
        env = env or self.env
        env["customer.metrics.report"].invalidate_model()  # as a new request would
        rows = env["customer.metrics.report"].search([("company_id", "=", self.company.id)])
        names = {member.id: name for name, member in self.members.items()}
        return {names[row.partner_id.id]: row for row in rows}

    def test_purchase_history_per_member(self):
        rows = self._rows()
        self.assertEqual(set(rows), set("ABCDE"), "F never bought; G only bought in another company")
        today = datetime.now(UTC).date()
        expected = {
            # name: (orders, spend, average order, first purchase, last purchase)
            "A": (4, 180, 45, 400, 10),
            "B": (5, 300, 60, 120, 5),
            "C": (1, 20, 20, 3, 3),
            "D": (4, 340, 85, 300, 200),
            "E": (1, 15, 15, 500, 500),
        }
        for name, (orders, spend, average, first, last) in expected.items():
            row = rows[name]
            self.assertEqual(row.order_count, orders, name)
            self.assertAlmostEqual(row.total_spend, spend, msg=name)
            self.assertAlmostEqual(row.average_order_value, average, msg=name)
            self.assertEqual(row.first_purchase_date, today - timedelta(days=first), name)
            self.assertEqual(row.last_purchase_date, today - timedelta(days=last), name)
            self.assertEqual(row.days_since_last_purchase, last, name)
            self.assertEqual(row.pseudonym, self.members[name].pseudonym)
            self.assertEqual(row.postal_area, "50")

    def test_rfm_scores_and_segments(self):
        rows = self._rows()
        expected = {
            "A": ("533", "loyal"),
            "B": ("544", "champions"),
            "C": ("511", "new"),
            "D": ("234", "at_risk"),
            "E": ("111", "lost"),
        }
        self.assertEqual({name: (row.rfm_score, row.rfm_segment) for name, row in rows.items()}, expected)

    def test_churn_after_the_configured_window(self):
        rows = self._rows()
        self.assertEqual({name for name, row in rows.items() if row.is_churned}, {"D", "E"})
        self.company.registry_churn_days = 7
        rows = self._rows()
        self.assertEqual({name for name, row in rows.items() if row.is_churned}, {"A", "D", "E"})

    def test_lifetime_value(self):
        """Spend x 365 / max(days since first purchase, 365) x lifespan (3 years)."""
        rows = self._rows()
        expected = {"A": 180 * 365 / 400 * 3, "B": 300 * 3, "C": 20 * 3, "D": 340 * 3, "E": 15 * 365 / 500 * 3}
        for name, value in expected.items():
            self.assertAlmostEqual(rows[name].lifetime_value, value, places=2, msg=name)
        self.company.registry_lifespan_years = 1.5
        self.assertAlmostEqual(self._rows()["B"].lifetime_value, 450, places=2)

    def test_group_by_segment(self):
        groups = self.env["customer.metrics.report"]._read_group(
            [("company_id", "=", self.company.id)], ["rfm_segment"], ["__count", "total_spend:sum"]
        )
        self.assertEqual(
            {segment: (count, spend) for segment, count, spend in groups},
            {"loyal": (1, 180), "champions": (1, 300), "new": (1, 20), "at_risk": (1, 340), "lost": (1, 15)},
        )

    def test_grouping_by_segment_is_one_query(self):
        report = self.env["customer.metrics.report"]
        report._read_group([], ["rfm_segment"], ["__count"])
        with self.assertQueryCount(1):
            report._read_group([], ["rfm_segment"], ["__count", "total_spend:sum"])

    def test_report_screens_open_for_registry_users(self):
        analyst = new_test_user(
            self.env, "screens_analyst", groups="base.group_user,customer_registry.group_registry_user"
        )
        for xmlid in (
            "action_customer_metrics_report",
            "action_customer_kpi_report",
            "action_customer_cohort_report",
            "action_customer_postal_area_report",
            "action_customer_segment",
        ):
            action = self.env.ref(f"customer_registry.{xmlid}")
            views = [(view.id, view.view_mode) for view in action.view_ids] or [
                (False, mode) for mode in action.view_mode.split(",")
            ]
            result = self.env[action.res_model].with_user(analyst).get_views([*views, (False, "search")])
            self.assertEqual(set(result["views"]), {mode for _view, mode in views} | {"search"}, xmlid)
        menu = self.env.ref("customer_registry.menu_customer_registry_reporting")
        self.assertIn(menu, self.env["ir.ui.menu"].with_user(analyst).search([("id", "=", menu.id)]))

    def test_reports_show_only_the_users_companies_and_the_same_figures_to_all(self):
        Users = self.env["res.users"].with_context(no_reset_password=True)
        one_company = new_test_user(
            Users.env,
            "analyst_one",
            groups="base.group_user,customer_registry.group_registry_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        both_companies = new_test_user(
            Users.env,
            "analyst_both",
            groups="base.group_user,customer_registry.group_registry_user",
            company_id=self.company.id,
            company_ids=[self.company.id, self.other_company.id],
        )
        seen_by_one = self.env["customer.metrics.report"].with_user(one_company).search([])
        self.assertEqual(seen_by_one.company_id, self.company)
        self.assertEqual(len(seen_by_one), 5)
        report_for_both = (
            self.env["customer.metrics.report"]
            .with_user(both_companies)
            .with_context(allowed_company_ids=[self.company.id, self.other_company.id])
        )
        seen_by_both = report_for_both.search([])
        self.assertEqual(len(seen_by_both), 7, "A's other card and G bought in the other company")
        other = seen_by_both.filtered(lambda row: row.company_id == self.other_company)
        self.assertEqual(set(other.partner_id.ids), {self.a_at_other_shop.id, self.members["G"].id})
        # Scores use the company's own window and average purchase: the other company changes nothing here.
        mine = seen_by_both.filtered(lambda row: row.company_id == self.company)
        self.assertEqual(
            sorted(mine.mapped(lambda r: (r.pseudonym, r.rfm_score, r.rfm_segment))),
            sorted(seen_by_one.mapped(lambda r: (r.pseudonym, r.rfm_score, r.rfm_segment))),
        )


@tagged("post_install", "-at_install")
class TestRfmSegmentRules(RetentionCase):
    def _segment(self, r, f, m):
        self.env.cr.execute(f"SELECT {RFM_SEGMENT_CASE.format(r=int(r), f=int(f), m=int(m))}")
        return self.env.cr.fetchone()[0]

    def test_rules_in_order(self):
        cases = {
            (5, 5, 1): "champions",
            (4, 4, 5): "champions",
            (5, 1, 5): "new",
            (3, 3, 2): "loyal",
            (4, 3, 1): "loyal",
            (3, 1, 5): "potential",
            (4, 2, 2): "potential",
            (2, 5, 5): "cant_lose",
            (1, 4, 4): "cant_lose",
            (2, 4, 3): "at_risk",
            (1, 3, 5): "at_risk",
            (2, 2, 5): "hibernating",
            (1, 2, 5): "lost",
            (1, 1, 1): "lost",
        }
        for (r, f, m), segment in cases.items():
            self.assertEqual(self._segment(r, f, m), segment, f"R{r} F{f} M{m}")
