from datetime import UTC, datetime

from odoo.tests import tagged

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestMonthlyRetention(RetentionCase):
    """Five members in Oslo time, churn window 60 days; worked out by hand.

    Purchases (UTC, noon unless said), amount; shop 1 serves P and Q, shop 2 R, S and T:
      P: Jan 10 (10), Feb 15 (20), Mar 20 (30)
      Q: Jan 31 23:30 UTC = Feb 1 00:30 in Oslo (40), Mar 5 (50)
      R: Jan 5 (60), Mar 10 (70)          64 days apart: lost in March, back the same month
      S: Feb 10 (80)
      T: Jan 20 (90), refund Feb 20 (-45): a refund is no purchase
    Cohorts (Oslo months): January P, R, T; February Q, S.
    Churn date = last purchase + 60 days when no purchase came before it:
      R Mar 6, T Mar 21, S Apr 11, Q May 4, R May 9, P May 19.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        company.partner_id.tz = "Europe/Oslo"
        company.registry_churn_days = 60
        shop_1, shop_2 = cls._shop("Shop 1"), cls._shop("Shop 2")
        cls.config_1, cls.config_2 = shop_1.config_id, shop_2.config_id
        members = {name: cls._member(name) for name in "PQRST"}
        history = [
            (shop_1, "P", datetime(2025, 1, 10, 12), 10),
            (shop_1, "P", datetime(2025, 2, 15, 12), 20),
            (shop_1, "P", datetime(2025, 3, 20, 12), 30),
            (shop_1, "Q", datetime(2025, 1, 31, 23, 30), 40),
            (shop_1, "Q", datetime(2025, 3, 5, 12), 50),
            (shop_2, "R", datetime(2025, 1, 5, 12), 60),
            (shop_2, "R", datetime(2025, 3, 10, 12), 70),
            (shop_2, "S", datetime(2025, 2, 10, 12), 80),
            (shop_2, "T", datetime(2025, 1, 20, 12), 90),
            (shop_2, "T", datetime(2025, 2, 20, 12), -45),
        ]
        for session, name, when, amount in history:
            cls._order(session, members[name], when, amount)
        cls._order(shop_1, False, datetime(2025, 1, 15, 12), 500)

    def test_cohort_triangle(self):
        rows = self.env["customer.cohort.report"].search([("cohort_month", ">=", "2025-01-01")])
        cells = {(row.cohort_month.month, row.months_since_first): row for row in rows if row.months_since_first <= 3}
        self.assertEqual(cells[1, 0].cohort_members, 3, "Q's first purchase is in February, Oslo time")
        self.assertEqual(cells[2, 0].cohort_members, 2)
        expected = {
            (1, 0): 100.0,
            (1, 1): 100 / 3,
            (1, 2): 200 / 3,
            (1, 3): 0.0,
            (2, 0): 100.0,
            (2, 1): 50.0,
            (2, 2): 0.0,
        }
        for cell, share in expected.items():
            self.assertAlmostEqual(cells[cell].retention_rate, share, places=6, msg=cell)
        self.assertEqual(cells[1, 2].returning_members, 2)
        self.assertEqual(
            max(rows.filtered(lambda row: row.cohort_month.month == 1).mapped("month")),
            datetime.now(UTC).date().replace(day=1),
            "the triangle runs up to the current month",
        )

    def _kpis(self, groupby=("month:month",)):
        groups = self.env["customer.kpi.report"]._read_group(
            [("month", ">=", "2025-01-01"), ("month", "<", "2025-07-01")],
            list(groupby),
            [
                "active_members:sum",
                "new_members:sum",
                "returning_members:sum",
                "repeat_purchase_rate:avg",
                "members_at_start:sum",
                "members_lost:sum",
                "churn_rate:avg",
                "average_order_value:avg",
            ],
        )
        return {group[: len(groupby)]: group[len(groupby) :] for group in groups}

    def test_monthly_kpis(self):
        kpis = {month.month: figures for (month,), figures in self._kpis().items()}
        # month: active, new, returning, repeat %, at start, lost, churn %, average order
        expected = {
            1: (3, 3, 0, 0.0, 0, 0, None, 160 / 3),
            # February's average order: (20 + 40 + 80 - T's refund 45) / 3 purchases
            2: (3, 2, 1, 100 / 3, 3, 0, 0.0, 95 / 3),
            3: (3, 0, 3, 100.0, 5, 2, 40.0, 50.0),
            4: (0, 0, 0, None, 4, 1, 25.0, None),
            5: (0, 0, 0, None, 3, 3, 100.0, None),
            6: (0, 0, 0, None, 0, 0, None, None),
        }
        self.assertEqual(set(kpis), set(expected))
        for month, figures in expected.items():
            for label, got, want in zip(
                ("active", "new", "returning", "repeat", "at start", "lost", "churn", "average order"),
                kpis[month],
                figures,
                strict=True,
            ):
                if want is None:
                    self.assertFalse(got, f"month {month} {label}")
                else:
                    self.assertAlmostEqual(got or 0, want, places=6, msg=f"month {month} {label}")

    def test_rates_over_several_months_are_ratios_of_sums(self):
        Kpi = self.env["customer.kpi.report"]
        [(churn,)] = Kpi._read_group(
            [("month", ">=", "2025-02-01"), ("month", "<", "2025-06-01")], [], ["churn_rate:avg"]
        )
        self.assertAlmostEqual(churn, 100 * (0 + 2 + 1 + 3) / (3 + 5 + 4 + 3))
        [(average_order, repeat)] = Kpi._read_group(
            [("month", ">=", "2025-01-01"), ("month", "<", "2025-04-01")],
            [],
            ["average_order_value:avg", "repeat_purchase_rate:avg"],
        )
        self.assertAlmostEqual(average_order, (10 + 20 + 30 + 40 + 50 + 60 + 70 + 80 + 90 - 45) / 9)
        self.assertAlmostEqual(repeat, 100 * (0 + 1 + 3) / (3 + 3 + 3))

    def test_kpis_per_point_of_sale(self):
        kpis = self._kpis(("month:month", "config_id"))
        january = {config: figures[0] for (month, config), figures in kpis.items() if month.month == 1}
        self.assertEqual(january, {self.config_1: 1, self.config_2: 2})
        february_new = {config: figures[1] for (month, config), figures in kpis.items() if month.month == 2}
        self.assertEqual(february_new, {self.config_1: 1, self.config_2: 1})
