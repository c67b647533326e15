from datetime import UTC, date, datetime, time, timedelta

from odoo import fields
from odoo.tests import TransactionCase


class RetentionCase(TransactionCase):
    """Builds a purchase history by hand: members, points of sale and orders at chosen times."""

    @classmethod
    def _shop(cls, name, company=None):
        company = company or cls.env.company
        Journal = cls.env["account.journal"].with_company(company)
        if not Journal.search_count([("type", "=", "bank"), ("company_id", "=", company.id)]):
            Journal.create(
                {"name": f"Bank {company.name}", "type": "bank", "code": f"BK{company.id}", "company_id": company.id}
            )
        config = cls.env["pos.config"].with_company(company).create({"name": name, "company_id": company.id})
        return cls.env["pos.session"].with_company(company).create({"config_id": config.id})

    @classmethod
    def _member(cls, name, zip_code="5012", company=None):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_registry_member": True,
                "zip": zip_code,
                "company_id": company.id if company else False,
            }
        )

    @classmethod
    def _order(cls, session, partner, when, amount, state="paid", product=None):
        lines = (
            [
                fields.Command.create(
                    {
                        "name": product.name,
                        "product_id": product.id,
                        "qty": 1,
                        "price_unit": amount,
                        "price_subtotal": amount,
                        "price_subtotal_incl": amount,
                    }
                )
            ]
            if product
            else []
        )
        return (
            cls.env["pos.order"]
            .with_company(session.company_id)
            .create(
                {
                    "lines": lines,
                    "session_id": session.id,
                    "partner_id": partner.id if partner else False,
                    "date_order": when,
                    "amount_total": amount,
                    "amount_tax": 0.0,
                    "amount_paid": amount,
                    "amount_return": 0.0,
                    "state": state,
                }
            )
        )

    @classmethod
    def _refund(cls, order, partner=False, when=None):
        """A paid refund of the order's first line, rung up with `partner` (none: without the member)."""
        line = order.lines[0]
        amount = -line.price_subtotal_incl
        return (
            cls.env["pos.order"]
            .with_company(order.company_id)
            .create(
                {
                    "session_id": order.session_id.id,
                    "partner_id": partner.id if partner else False,
                    "date_order": when or datetime(2025, 2, 20, 12),
                    "lines": [
                        fields.Command.create(
                            {
                                "name": line.name,
                                "product_id": line.product_id.id,
                                "qty": -line.qty,
                                "price_unit": line.price_unit,
                                "price_subtotal": amount,
                                "price_subtotal_incl": amount,
                                "refunded_orderline_id": line.id,
                            }
                        )
                    ],
                    "amount_total": amount,
                    "amount_tax": 0.0,
                    "amount_paid": amount,
                    "amount_return": 0.0,
                    "state": "paid",
                }
            )
        )

    @staticmethod
    def _days_ago(days, today=None):
        """Noon UTC, `days` before today (UTC)."""
        today = today or datetime.now(UTC).date()
        return datetime.combine(today - timedelta(days=days), time(12))

    @staticmethod
    def _month(year, month):
        return date(year, month, 1)

    def _check_grouped_against_member_rows(self, members_expected):
        """Whatever way the report answers a grouping, its figures are the member rows' combined."""
        Metrics = self.env["customer.metrics.report"]
        measures = ["order_count", "total_spend", "lifetime_value", "days_since_last_purchase"]
        measures += ["recency_score", "frequency_score", "monetary_score"]
        rows = Metrics.search_read([], ["company_id", "rfm_segment", "rfm_score", "is_churned", *measures])
        self.assertEqual(len(rows), members_expected)
        aggregates = ["__count", "order_count:sum", "total_spend:sum", "lifetime_value:sum"]
        aggregates += ["days_since_last_purchase:avg", "recency_score:avg", "frequency_score:avg"]
        aggregates += ["monetary_score:avg", "average_order_value:avg"]
        for groupby in (["rfm_segment"], ["company_id", "rfm_segment"], ["rfm_score"], ["is_churned"], []):
            groups = Metrics._read_group([], groupby, aggregates)
            self.assertEqual(sum(group[len(groupby)] for group in groups), len(rows))
            for group in groups:
                key = [value.id if hasattr(value, "id") else value for value in group[: len(groupby)]]
                members = [
                    row
                    for row in rows
                    if [row[field][0] if field == "company_id" else row[field] for field in groupby] == key
                ]
                count, purchases, spend, lifetime, days, recency, frequency, monetary, average = group[len(groupby) :]
                self.assertEqual(count, len(members), groupby)
                self.assertEqual(purchases, sum(row["order_count"] for row in members))
                self.assertAlmostEqual(spend, sum(row["total_spend"] for row in members))
                self.assertAlmostEqual(lifetime, sum(row["lifetime_value"] for row in members))
                self.assertAlmostEqual(average, spend / purchases)
                for value, field in (
                    (days, "days_since_last_purchase"),
                    (recency, "recency_score"),
                    (frequency, "frequency_score"),
                    (monetary, "monetary_score"),
                ):
                    self.assertAlmostEqual(value, sum(row[field] for row in members) / len(members), msg=field)
