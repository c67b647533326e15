from datetime import datetime

from odoo.tests import tagged

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestRetentionLabels(RetentionCase):
    """What the report screens say: totals that mean something, segments in order, codes only.

    Two shops, UTC, first quarter of 2025 (amounts 10 each):
      shop 1: A Jan, Feb, Mar; B Feb        shop 2: C Jan, Mar; D Mar
    Active per month (both shops): Jan 2 (A, C), Feb 2 (A, B), Mar 3 (A, C, D): 7 member-months,
    4 members, 2.33 active members a month on average.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"
        shop_1, shop_2 = cls._shop("Label Shop 1"), cls._shop("Label Shop 2")
        members = {name: cls._member(name) for name in "ABCD"}
        for session, name, month in [
            (shop_1, "A", 1), (shop_1, "A", 2), (shop_1, "A", 3), (shop_1, "B", 2),
            (shop_2, "C", 1), (shop_2, "C", 3), (shop_2, "D", 3),
        ]:  # fmt: skip
            cls._order(session, members[name], datetime(2025, month, 10, 12), 10)

    def _quarter(self, groupby, aggregates):
        return self.env["customer.kpi.report"].formatted_read_group(
            [("month", ">=", "2025-01-01"), ("month", "<", "2025-04-01")], groupby, aggregates
        )

    def test_a_total_over_months_is_the_monthly_average_not_a_sum_of_members(self):
        measures = ["active_members:avg", "returning_members:avg", "new_members:sum", "order_count:sum"]
        [total] = self._quarter([], measures)
        self.assertAlmostEqual(total["active_members:avg"], 7 / 3, places=6, msg="not 7 member-months")
        self.assertAlmostEqual(total["returning_members:avg"], 3 / 3, places=6, msg="A in Feb and Mar, C in Mar")
        self.assertEqual(total["new_members:sum"], 4, "each member is new once: new members add up")
        self.assertEqual(total["order_count:sum"], 7)
        by_month = {group["month:month"][1]: group for group in self._quarter(["month:month"], measures)}
        actives = [group["active_members:avg"] for group in by_month.values()]
        self.assertEqual(actives, [2, 2, 3], "one month's figure is the sum over its points of sale")

    def test_the_web_client_reads_the_monthly_average_by_default(self):
        fields = self.env["customer.kpi.report"].fields_get(["active_members", "new_members"], ["aggregator"])
        self.assertEqual(fields["active_members"]["aggregator"], "avg")
        self.assertEqual(fields["new_members"]["aggregator"], "sum")

    def test_rfm_segments_are_listed_best_first(self):
        # A regular of this week (a champion) and regulars of two years ago (at risk or can't lose):
        # alphabetically the quiet ones would come first.
        shop = self._shop("Label Shop 3")
        for name, first_day in [("Weekly", 1), ("Gone 1", 700), ("Gone 2", 720), ("Once", 400)]:
            member = self._member(name)
            for day in range(first_day, first_day + (1 if name == "Once" else 10)):
                self._order(shop, member, self._days_ago(day), 30)
        Metrics = self.env["customer.metrics.report"]
        groups = Metrics.formatted_read_group([], ["rfm_segment"], ["__count"])
        order = [key for key, _label in Metrics._fields["rfm_segment"].selection]
        shown = [group["rfm_segment"] for group in groups]
        self.assertIn("champions", shown)
        self.assertTrue({"at_risk", "cant_lose"} & set(shown), shown)
        self.assertEqual(shown, sorted(shown, key=order.index), "in the segments' order, not alphabetical")
        descending = Metrics.formatted_read_group([], ["rfm_segment"], ["__count"], order="rfm_segment desc")
        self.assertEqual([group["rfm_segment"] for group in descending], shown[::-1])

    def test_metrics_offer_the_card_code_not_the_member_to_group_by(self):
        fields = self.env["customer.metrics.report"].fields_get(
            ["partner_id", "pseudonym"], ["groupable", "searchable"]
        )
        self.assertFalse(fields["partner_id"]["groupable"], "grouping by member would show greeting names")
        self.assertFalse(fields["partner_id"]["searchable"])
        self.assertTrue(fields["pseudonym"]["groupable"])

    def test_the_churn_window_help_says_more_than_as_the_reports_count(self):
        help_text = self.env["res.company"]._fields["registry_churn_days"].help
        self.assertIn("more than this many days", help_text)
