from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..report.retention_sql import COUNTED_STATES, RFM_SEGMENTS
from .customer_consent import MARKETING

PII_GROUP = "customer_registry.group_registry_pii"
# Why a member of a segment is left out of a mailing list export.
NO_CONSENT = "no_consent"
NO_EMAIL = "no_email"


class CustomerSegment(models.Model):
    """A saved query over members, answered with pseudonyms only.

    Criteria left empty (or 0) do not filter.  Spend, orders, RFM segment and
    churn are the member's figures in the segment's company (customer
    metrics): members who never bought only match segments without them.
    """

    _name = "customer.segment"
    _description = "Member Segment"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    postal_areas = fields.Char(
        help="Postal areas (first two digits of the postal code), separated by commas, e.g. 50, 51.",
    )
    product_ids = fields.Many2many("product.product", string="Bought Products", check_company=True)
    product_category_ids = fields.Many2many(
        "product.category", string="Bought Product Categories", help="Subcategories included."
    )
    purchase_months = fields.Integer(
        string="Bought Within (months)",
        default=6,
        help="Period of the product criteria: the last months up to today; 0 for any time.",
    )
    min_spend = fields.Monetary(string="Spend From")
    max_spend = fields.Monetary(string="Spend Up To")
    min_orders = fields.Integer(string="Orders From")
    max_orders = fields.Integer(string="Orders Up To")
    rfm_segment = fields.Selection(RFM_SEGMENTS, string="RFM Segment")
    tier_ids = fields.Many2many("customer.loyalty.tier", string="Loyalty Tiers", check_company=True)
    churn_state = fields.Selection([("churned", "Churned"), ("active", "Not churned")], string="Churn")
    marketing_consent = fields.Selection(
        [("given", "Valid marketing consent"), ("missing", "No valid marketing consent")]
    )
    member_count = fields.Integer(compute="_compute_member_count", string="Members")

    def _compute_member_count(self):
        for segment in self:
            segment.member_count = self.env["res.partner"].search_count(segment._members_domain())

    def _postal_area_list(self):
        return [area.strip() for area in (self.postal_areas or "").split(",") if area.strip()]

    def _members(self):
        """The registry members matching every criterion, as res.partner records."""
        self.ensure_one()
        return self.env["res.partner"].search(self._members_domain(), order="pseudonym")

    def _members_domain(self):
        """A res.partner domain of the segment's members; the figures are subqueries, not id lists."""
        self.ensure_one()
        domain = [
            ("is_registry_member", "=", True),
            ("company_id", "=", self.company_id.id),
        ]
        if self._postal_area_list():
            domain.append(("registry_postal_area", "in", self._postal_area_list()))
        if self.marketing_consent:
            domain.append(("has_marketing_consent", "=", self.marketing_consent == "given"))
        if self.tier_ids:
            domain.append(("loyalty_tier_id", "in", self.tier_ids.ids))
        metrics_domain = self._metrics_domain()
        if metrics_domain:
            rows = self.env["customer.metrics.report"]._search(
                [("company_id", "=", self.company_id.id), *metrics_domain]
            )
            domain.append(("id", "in", rows.subselect("partner_id")))
        if self.product_ids or self.product_category_ids:
            self.env["pos.order.line"].flush_model()
            self.env["pos.order"].flush_model()
            domain.append(("id", "in", self._buyers_of_products()))
        return domain

    def _metrics_domain(self):
        domain = []
        if self.min_spend:
            domain.append(("total_spend", ">=", self.min_spend))
        if self.max_spend:
            domain.append(("total_spend", "<=", self.max_spend))
        if self.min_orders:
            domain.append(("order_count", ">=", self.min_orders))
        if self.max_orders:
            domain.append(("order_count", "<=", self.max_orders))
        if self.rfm_segment:
            domain.append(("rfm_segment", "=", self.rfm_segment))
        if self.churn_state:
            domain.append(("is_churned", "=", self.churn_state == "churned"))
        return domain

    def _buyers_of_products(self):
        """SQL of the members who kept one of the products (or of the categories) bought in the period.

        A line counts when it was paid for (a free line, e.g. a reward, does not) and not all
        of it was refunded since (the refunds of the line in paid orders are deducted).
        """
        categories = self.env["product.category"].search([("id", "child_of", self.product_category_ids.ids)])
        since = (
            fields.Datetime.now() - relativedelta(months=self.purchase_months)
            if self.purchase_months
            else fields.Datetime.to_datetime("1970-01-01")
        )
        return SQL(
            """
            SELECT o.partner_id
              FROM pos_order_line line
              JOIN pos_order o ON o.id = line.order_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE o.company_id = %(company)s AND o.state IN %(states)s
               AND o.partner_id IS NOT NULL AND o.pseudonym IS NOT NULL
               AND o.date_order >= %(since)s AND line.qty > 0 AND line.price_subtotal_incl > 0
               AND (line.product_id = ANY(%(products)s) OR template.categ_id = ANY(%(categories)s))
               AND line.qty + COALESCE((
                       SELECT SUM(refund.qty)
                         FROM pos_order_line refund
                         JOIN pos_order refund_order ON refund_order.id = refund.order_id
                        WHERE refund.refunded_orderline_id = line.id AND refund_order.state IN %(states)s
                   ), 0) > 0
            """,
            company=self.company_id.id,
            states=COUNTED_STATES,
            since=since,
            products=self.product_ids.ids,
            categories=categories.ids,
        )

    @api.readonly
    def action_view_members(self):
        # Only reads: with a replica configured, Odoo runs it there (the segment's count as well).
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("customer_registry.action_registry_members")
        action.update(
            name=self.env._("Members of %s", self.name),
            domain=[("id", "in", self._members().ids)],
            context={"create": False},
        )
        return action

    # Export to a mailing list

    @api.model
    def _check_can_export(self):
        if not self.env.user.has_group(PII_GROUP):
            raise AccessError(
                self.env._(
                    "Exporting members to a mailing list copies their email addresses: "
                    "only users allowed to read personal data may do it."
                )
            )

    def _mailing_recipients(self):
        """(emails by member, members left out by reason) for a mailing list export.

        Only members with a valid marketing consent are exported; their email
        lives on the identity, read here with sudo once the consent is checked.
        """
        self.ensure_one()
        self._check_can_export()
        members = self._members()
        # A member belongs to one company (the database guarantees the identity's and the
        # consents' company are the member's): the export stays within the segment's company.
        consenting = (
            self.env["customer.consent"]
            .search([("partner_id", "in", members.ids), ("purpose", "=", MARKETING), ("is_valid", "=", True)])
            .partner_id.filtered(lambda member: member.company_id == self.company_id)
        )
        identities = (
            self.env["customer.identity"]
            .sudo()
            .search([("partner_id", "in", consenting.ids), ("company_id", "=", self.company_id.id)])
        )
        emails = {identity.partner_id: identity.email for identity in identities if identity.email}
        identities._registry_audit(["email"], "segment_export")
        left_out = {NO_CONSENT: len(members - consenting), NO_EMAIL: len(consenting) - len(emails)}
        return emails, left_out

    def action_open_mailing_export(self):
        self.ensure_one()
        self._check_can_export()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Export to Mailing List"),
            "res_model": "customer.segment.mailing.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_segment_id": self.id, "default_list_name": self.name},
        }

    def _export_to_mailing_list(self, list_name):
        """Create a mailing list of the consenting members; needs Email Marketing installed."""
        self.ensure_one()
        if "mailing.list" not in self.env:
            raise UserError(self.env._("Install the Email Marketing app to export segments to mailing lists."))
        emails, left_out = self._mailing_recipients()
        mailing_list = self.env["mailing.list"].sudo().create({"name": list_name})
        self.env["mailing.contact"].sudo().create(
            [
                # The card code as name: the list needs the address, not who it is.
                {"name": member.pseudonym, "email": email, "list_ids": [fields.Command.link(mailing_list.id)]}
                for member, email in emails.items()
            ]
        )
        return mailing_list, left_out
