import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from odoo.tests import tagged

from .retention_common import RetentionCase

TIMEZONE = "Europe/Oslo"
COUNTED = ("paid", "done")


@tagged("post_install", "-at_install")
class TestRetentionSummaries(RetentionCase):
    """After random orders, refunds (with and without the member), state and date changes by SQL,
    member changes and late enrollments, the summary-based reports equal a direct computation
    from the orders, and a rebuild (and a compaction) changes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = TIMEZONE
        cls.env.company.registry_churn_days = 30
        cls.shops = [cls._shop("Shop 1"), cls._shop("Shop 2")]
        cls.product = cls.env["product.product"].create({"name": "Bread", "available_in_pos": True})

    def _local_day(self, when):
        return when.replace(tzinfo=UTC).astimezone(ZoneInfo(TIMEZONE)).date()

    def _random_history(self, rng):
        members = [self._member(f"Member {index}") for index in range(5)]
        customers = [
            self.env["res.partner"].create({"name": f"Customer {index}", "company_id": self.env.company.id})
            for index in range(2)
        ]
        start = datetime(2025, 1, 1)
        orders = []
        for _step in range(45):
            action = rng.choice(["sale"] * 5 + ["refund"] * 2 + ["state", "date", "partner", "enroll"])
            sales = [order for order in orders if order.amount_total > 0 and order.lines]
            if action == "sale" or not sales:
                partner = rng.choice([*members, *customers, False])
                when = start + timedelta(days=rng.randrange(300), minutes=rng.randrange(1440))
                state = rng.choice(["paid", "paid", "done", "draft"])
                amount = rng.choice([5, 12.5, 20, 40])
                orders.append(self._order(rng.choice(self.shops), partner, when, amount, state, self.product))
            elif action == "refund":
                sold = rng.choice(sales)
                partner = rng.choice([False, sold.partner_id])
                when = sold.date_order + timedelta(days=rng.randrange(40))
                orders.append(self._refund(sold, partner=partner, when=when))
            elif action == "enroll":
                for customer in customers:
                    if not customer.is_registry_member:
                        customer.write({"is_registry_member": True})
                        break
            else:
                # Changes as SQL by the application makes them: the summaries must follow anyway.
                order = rng.choice(orders)
                self.env.flush_all()
                if action == "state":
                    state = rng.choice(["cancel", "paid", "done"])
                    self.env.cr.execute("UPDATE pos_order SET state = %s WHERE id = %s", [state, order.id])
                elif action == "date":
                    days = rng.randrange(-60, 60)
                    self.env.cr.execute(
                        "UPDATE pos_order SET date_order = date_order + %s * INTERVAL '1 day' WHERE id = %s",
                        [days, order.id],
                    )
                else:
                    partner = rng.choice([*members, False])
                    self.env.cr.execute(
                        "UPDATE pos_order SET partner_id = %s, pseudonym = %s WHERE id = %s",
                        [partner.id if partner else None, partner.pseudonym if partner else None, order.id],
                    )
                self.env.invalidate_all()
        self.env.flush_all()
        self.env.invalidate_all()
        return members + customers

    def _direct(self, partners):
        """Per member, per cohort cell and per month, straight from the orders (as the README defines)."""
        self.env.cr.execute(
            """SELECT o.id, o.partner_id, o.pseudonym, o.state, o.date_order, o.amount_total,
                      (SELECT origin.partner_id FROM pos_order_line refund
                         JOIN pos_order_line sold ON sold.id = refund.refunded_orderline_id
                         JOIN pos_order origin ON origin.id = sold.order_id
                        WHERE refund.order_id = o.id AND origin.pseudonym IS NOT NULL LIMIT 1)
                 FROM pos_order o WHERE o.company_id = %s""",
            [self.env.company.id],
        )
        per_member = defaultdict(list)
        for _id, partner_id, pseudonym, state, when, amount, refunded_member in self.env.cr.fetchall():
            if state not in COUNTED:
                continue
            member = partner_id if pseudonym else refunded_member
            if member:
                per_member[member].append((self._local_day(when), float(amount)))
        metrics, cohorts, months = {}, defaultdict(int), defaultdict(lambda: [0, 0, 0, 0.0])
        for member, orders in per_member.items():
            purchases = sorted(day for day, amount in orders if amount > 0)
            for day, amount in orders:
                months[day.replace(day=1)][3] += amount
            if not purchases:
                continue
            metrics[member] = (len(purchases), round(sum(a for _d, a in orders), 2), purchases[0], purchases[-1])
            bought = sorted({day.replace(day=1) for day in purchases})
            for month in bought:
                cohorts[bought[0], month] += 1
                months[month][0] += 1
                months[month][1] += month == bought[0]
            for day in purchases:
                months[day.replace(day=1)][2] += 1
        return metrics, dict(cohorts), {month: tuple(figures) for month, figures in months.items()}

    def _reports(self):
        self.env.invalidate_all()
        metrics = {
            row.partner_id.id: (
                row.order_count,
                round(row.total_spend, 2),
                row.first_purchase_date,
                row.last_purchase_date,
                row.rfm_score,
                row.is_churned,
            )
            for row in self.env["customer.metrics.report"].search([])
        }
        cohorts = {
            (row.cohort_month, row.month): (row.cohort_members, row.returning_members)
            for row in self.env["customer.cohort.report"].search([])
        }
        kpis = {
            (row.config_id.id, row.month): (
                row.active_members,
                row.new_members,
                row.returning_members,
                row.repeat_members,
                row.members_at_start,
                row.members_lost,
                row.order_count,
                round(row.amount_total, 2),
            )
            for row in self.env["customer.kpi.report"].search([])
        }
        return metrics, cohorts, kpis

    def _check_against_orders(self, partners):
        metrics, cohorts, months = self._direct(partners)
        reported, cells, kpis = self._reports()
        self.assertTrue(metrics and cohorts, "the history has counted purchases")
        self.assertEqual({member: figures[:4] for member, figures in reported.items()}, metrics)
        self.assertEqual({cell: buying for cell, (_size, buying) in cells.items() if buying}, cohorts)
        by_month = defaultdict(lambda: [0, 0, 0, 0.0])
        for (_config, month), figures in kpis.items():
            active, new, _returning, _repeat, _start, _lost, purchases, amount = figures
            for index, value in enumerate((active, new, purchases, amount)):
                by_month[month][index] += value
        self.assertEqual(
            {month: (a, n, p, round(s, 2)) for month, (a, n, p, s) in by_month.items() if a or p or s},
            {month: (a, n, p, round(s, 2)) for month, (a, n, p, s) in months.items() if a or p or s},
        )

    def _check_seed(self, seed):
        Summary = self.env["customer.retention.summary"]
        partners = self._random_history(random.Random(seed))
        self._check_against_orders(partners)
        incremental = self._reports()
        Summary.compact()
        self.assertEqual(self._reports(), incremental, "compaction changes no figure")
        Summary.rebuild()
        self.assertEqual(self._reports(), incremental, "a rebuild from the orders changes no figure")
        Summary.rebuild()
        self.assertEqual(self._reports(), incremental, "the rebuild is idempotent")

    def test_random_history_1(self):
        self._check_seed(1)

    def test_random_history_2(self):
        self._check_seed(2)

    def test_random_history_3(self):
        self._check_seed(3)

    def test_settings_change_rebuilds(self):
        partners = self._random_history(random.Random(7))
        self.env.company.registry_churn_days = 45
        self.env.company.partner_id.tz = "America/New_York"
        self.env.flush_all()
        changed = self._reports()
        self.env["customer.retention.summary"].rebuild()
        self.assertEqual(self._reports(), changed)
        self.assertTrue(partners)
