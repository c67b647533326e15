from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .retention_common import RetentionCase


@tagged("post_install", "-at_install")
class TestRetentionCountLabels(RetentionCase, HttpCase):
    """Counts of members read as whole numbers on the report screens, averages with decimals.

    Odoo's graph writes its value axis in the float format (0.00, 1.00, 2.00 members) and its
    pivot writes an integer field's average without decimals (2.33 active members a month read
    2). The tours read the rendered axis and pivot cells.

    One shop, UTC, the last three months (the current one included):
      A buys each month, B the two earlier months, C and D this month.
      Active members: 2, 2, 3 (7 member-months over 3 months: 2.33 a month).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"
        shop = cls._shop("Count Label Shop")
        this_month = fields.Date.context_today(cls.env["res.partner"]).replace(day=1)
        members = {name: cls._member(f"Count label member {name}") for name in "ABCD"}
        for name, months_ago in [("A", 2), ("A", 1), ("A", 0), ("B", 2), ("B", 1), ("C", 0), ("D", 0)]:
            day = this_month - relativedelta(months=months_ago)
            cls._order(shop, members[name], datetime.combine(day, time(0, 0, 1)), 25.0)

    def test_member_kpis_read_whole_counts_and_decimal_averages(self):
        self.start_tour(
            "/odoo/action-customer_registry.action_customer_kpi_report",
            "CustomerRegistryKpiCountLabelsTour",
            login="admin",
        )

    def test_members_per_segment_read_whole_counts(self):
        self.start_tour(
            "/odoo/action-customer_registry.action_customer_metrics_report",
            "CustomerRegistryMetricsCountLabelsTour",
            login="admin",
        )

    def test_grouped_counts_are_whole_numbers_for_the_api_too(self):
        # An export, a spreadsheet or a script reading the reports: 3 members, not 3.0.
        # formatted_read_group reads what the web client reads.
        kpis = self.env["customer.kpi.report"].formatted_read_group(
            [],
            ["month:month"],
            ["new_members:sum", "returning_members:sum", "members_lost:sum", "order_count:sum", "active_members:sum"],
        )
        cohorts = self.env["customer.cohort.report"].formatted_read_group(
            [], ["cohort_month:month"], ["cohort_members:sum", "returning_members:sum"]
        )
        metrics = self.env["customer.metrics.report"].formatted_read_group(
            [], ["rfm_segment"], ["member_count:sum", "order_count:sum"]
        )
        for report, groups in [("kpi", kpis), ("cohort", cohorts), ("metrics", metrics)]:
            for group in groups:
                for spec, value in group.items():
                    if spec.endswith(":sum"):
                        self.assertIs(type(value), int, f"{report} {spec} reads {value!r}")
        self.assertEqual(sorted(group["active_members:sum"] for group in kpis), [2, 2, 3])
        self.assertEqual(sum(group["new_members:sum"] for group in kpis), 4)
