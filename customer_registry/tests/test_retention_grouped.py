from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestGroupedFigures(RetentionCase):
    """Two companies (UTC, churn window 60 days), worked out by hand.

    Company A: a1 Jan 10 2025 (20), Feb 10 (40); a2 Jan 12 (30); a3 Jan 14 (90).
    Company B: b1 Jan 11 (10), Feb 11 (10); b2 Jan 13 (10), Feb 13 (10); b3 Feb 15 (10).
    Cohort January, pooled over both companies: 5 members, 3 bought in February: 60 %
    (the mean of the two companies' 33.3 % and 100 % is 66.7 %, and the larger cohort 3).
    Cohorts of 2025 one month later: (3 + 0) buying of (5 + 1) members: 50 %.
    Average order value of company A: spend / purchases = 180 / 4 = 45 (the mean of the
    members' averages, 30, 30 and 90, is 50).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        for company in cls.company_a | cls.company_b:
            company.partner_id.tz = "UTC"
            company.registry_churn_days = 60
        cls.shop_a = cls._shop("Shop A")
        cls.shop_b = cls._shop("Shop B", cls.company_b)
        cls.beans = cls.env["product.product"].create({"name": "Beans", "available_in_pos": True})
        cls.members = {name: cls._member(name) for name in ("a1", "a2", "a3")}
        cls.members.update({name: cls._member(name, company=cls.company_b) for name in ("b1", "b2", "b3")})
        cls.orders = {}
        for shop, name, when, amount in [
            (cls.shop_a, "a1", datetime(2025, 1, 10, 12), 20),
            (cls.shop_a, "a1", datetime(2025, 2, 10, 12), 40),
            (cls.shop_a, "a2", datetime(2025, 1, 12, 12), 30),
            (cls.shop_a, "a3", datetime(2025, 1, 14, 12), 90),
            (cls.shop_b, "b1", datetime(2025, 1, 11, 12), 10),
            (cls.shop_b, "b1", datetime(2025, 2, 11, 12), 10),
            (cls.shop_b, "b2", datetime(2025, 1, 13, 12), 10),
            (cls.shop_b, "b2", datetime(2025, 2, 13, 12), 10),
            (cls.shop_b, "b3", datetime(2025, 2, 15, 12), 10),
        ]:
            cls.orders.setdefault(name, []).append(cls._order(shop, cls.members[name], when, amount, product=cls.beans))

    def _cohorts(self, groupby):
        return {
            tuple(group[: len(groupby)]): group[len(groupby) :]
            for group in self.env["customer.cohort.report"]._read_group(
                [("cohort_month", ">=", "2025-01-01"), ("cohort_month", "<", "2026-01-01")],
                groupby,
                ["cohort_members:sum", "returning_members:sum", "retention_rate:avg"],
            )
        }

    def test_cohorts_of_several_companies_are_pooled(self):
        cells = self._cohorts(["cohort_month:month", "months_since_first"])
        january = datetime(2025, 1, 1).date()
        self.assertEqual(cells[january, 0][:2], (5, 5))
        members, buying, rate = cells[january, 1]
        self.assertEqual((members, buying), (5, 3))
        self.assertAlmostEqual(rate, 60.0)

    def test_cohorts_grouped_by_year_are_pooled(self):
        cells = self._cohorts(["cohort_month:year", "months_since_first"])
        year = datetime(2025, 1, 1).date()
        self.assertEqual(cells[year, 0][:2], (6, 6))
        members, buying, rate = cells[year, 1]
        self.assertEqual((members, buying), (6, 3))
        self.assertAlmostEqual(rate, 50.0)

    def test_average_order_value_grouped_is_spend_over_purchases(self):
        Metrics = self.env["customer.metrics.report"]
        [(average, spend, purchases)] = Metrics._read_group(
            [("company_id", "=", self.company_a.id)],
            [],
            ["average_order_value:avg", "total_spend:sum", "order_count:sum"],
        )
        self.assertEqual((spend, purchases), (180, 4))
        self.assertAlmostEqual(average, 45.0)
        by_segment = Metrics._read_group(
            [("company_id", "=", self.company_a.id)], ["rfm_segment"], ["average_order_value:avg", "__count"]
        )
        for segment, average, count in by_segment:
            rows = Metrics.search([("company_id", "=", self.company_a.id), ("rfm_segment", "=", segment)])
            self.assertEqual(len(rows), count)
            self.assertAlmostEqual(average, sum(rows.mapped("total_spend")) / sum(rows.mapped("order_count")))

    def test_rates_by_year_are_ratios_of_sums(self):
        [(_year, repeat, active)] = self.env["customer.kpi.report"]._read_group(
            [("company_id", "=", self.company_a.id), ("month", ">=", "2025-01-01"), ("month", "<", "2026-01-01")],
            ["month:year"],
            ["repeat_purchase_rate:avg", "active_members:sum"],
        )
        self.assertEqual(active, 4, "January a1, a2, a3; February a1")
        self.assertAlmostEqual(repeat, 25.0, msg="only a1 in February had bought more than once")

    def _metrics(self, name):
        self.env["customer.metrics.report"].invalidate_model()
        return self.env["customer.metrics.report"].search([("partner_id", "=", self.members[name].id)])

    def _february_purchased(self):
        self.env["customer.kpi.report"].invalidate_model()
        [(purchased, purchases)] = self.env["customer.kpi.report"]._read_group(
            [("company_id", "=", self.company_a.id), ("month", "=", "2025-02-01")],
            [],
            ["amount_total:sum", "order_count:sum"],
        )
        return purchased, purchases

    def test_refund_without_the_member_is_charged_to_the_original_buyer(self):
        self.assertEqual(self._february_purchased(), (40, 1))
        self._refund(self.orders["a2"][0])
        row = self._metrics("a2")
        self.assertEqual((row.order_count, row.total_spend), (1, 0), "refunded: spend 0, still one purchase")
        self.assertEqual(self._february_purchased(), (40 - 30, 1), "February's purchases less the refund")
        # The loyalty ledger's rolling spend agrees: the same refund is charged to a2.
        spend = self.env["customer.loyalty.entry"]._spend_sql(datetime(2000, 1, 1))
        self.env.cr.execute(
            SQL("SELECT %s FROM res_partner partner WHERE partner.id = %s", spend, self.members["a2"].id)
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_refund_follows_state_changes_and_lines_by_sql(self):
        refund = self._refund(self.orders["a3"][0])
        self.assertEqual(self._metrics("a3").total_spend, 0)
        # The ORM refuses to edit a paid order: SQL by the application reaches the summaries too.
        self.env.flush_all()
        self.env.cr.execute("UPDATE pos_order SET state = 'cancel' WHERE id = %s", [refund.id])
        self.assertEqual(self._metrics("a3").total_spend, 90, "a cancelled refund lowers nothing")
        self.env.cr.execute("DELETE FROM pos_order_line WHERE order_id = %s", [refund.id])
        self.env.cr.execute("UPDATE pos_order SET state = 'paid' WHERE id = %s", [refund.id])
        self.assertEqual(self._metrics("a3").total_spend, 90, "an order refunding no line is no refund of a3's")

    def test_late_enrollment_brings_past_orders(self):
        customer = self.env["res.partner"].create({"name": "Walk-in then member", "company_id": self.company_a.id})
        self._order(self.shop_a, customer, datetime(2025, 1, 20, 12), 50)
        self.env.flush_all()
        customer.write({"is_registry_member": True})
        self.env.flush_all()
        self.env["customer.metrics.report"].invalidate_model()
        row = self.env["customer.metrics.report"].search([("partner_id", "=", customer.id)])
        self.assertEqual((row.order_count, row.total_spend), (1, 50))
        cells = self._cohorts(["cohort_month:month", "months_since_first"])
        self.assertEqual(cells[datetime(2025, 1, 1).date(), 0][:2], (6, 6))

    def test_grouped_figures_are_those_of_the_member_rows(self):
        self._check_grouped_against_member_rows(6)


@tagged("post_install", "-at_install")
class TestSmallShop(RetentionCase):
    """A 21-member café: 20 members bought twice today, X earliest and for the least; N once today.

    Ranked among the members (as before), X had the lowest R, F and M: "Lost" (RFM 111) on the
    day of its second purchase, and the 20 with two purchases scored F 1 ("New") because fewer
    than a fifth bought once.  Against fixed yardsticks: everyone bought within 7 days (R 5),
    two purchases score F 2 ("Potential"), only N, a first-time buyer, is "New".
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"
        cls.env.company.registry_churn_days = 180
        shop = cls._shop("Café")
        now = fields.Datetime.now().replace(microsecond=0)
        # Purchases minutes apart within the last hours (the same local day for all but at midnight).
        cls.x = cls._member("X")
        cls._order(shop, cls.x, now - timedelta(minutes=200), 3)
        cls._order(shop, cls.x, now - timedelta(minutes=199), 3)
        cls.regulars = cls.env["res.partner"]
        for index in range(19):
            member = cls._member(f"Regular {index}")
            cls._order(shop, member, now - timedelta(minutes=190 - 2 * index), 10 + index)
            cls._order(shop, member, now - timedelta(minutes=189 - 2 * index), 10 + index)
            cls.regulars |= member
        cls.newcomer = cls._member("N")
        cls._order(shop, cls.newcomer, now - timedelta(minutes=5), 12)

    def _rows(self):
        rows = self.env["customer.metrics.report"].search([("company_id", "=", self.env.company.id)])
        return {row.partner_id: row for row in rows}

    def test_a_member_who_bought_this_week_is_never_lost(self):
        rows = self._rows()
        self.assertEqual(len(rows), 21)
        self.assertNotIn(rows[self.x].rfm_segment, ("lost", "hibernating", "at_risk", "cant_lose"))
        self.assertEqual(rows[self.x].rfm_segment, "potential")

    def test_same_day_same_recency(self):
        rows = self._rows()
        self.assertEqual({row.recency_score for row in rows.values()}, {5})

    def test_new_means_a_first_time_buyer(self):
        rows = self._rows()
        self.assertEqual({partner for partner, row in rows.items() if row.rfm_segment == "new"}, {self.newcomer})
        self.assertEqual(rows[self.newcomer].frequency_score, 1)
        self.assertEqual({rows[member].frequency_score for member in self.regulars}, {2})

    def test_grouped_figures_are_those_of_the_member_rows(self):
        self._check_grouped_against_member_rows(21)
