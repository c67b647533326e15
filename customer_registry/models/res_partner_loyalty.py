from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    """Loyalty balance and tier of a member, stored beside the member.

    Both columns are only moved by the ledger (customer.loyalty.entry._post), in
    the same statement as the entry explaining the move: reading a balance never
    sums the history.
    """

    _inherit = "res.partner"

    loyalty_balance = fields.Integer(
        string="Loyalty Points",
        readonly=True,
        copy=False,
        groups="customer_registry.group_registry_user",
    )
    loyalty_tier_id = fields.Many2one(
        "customer.loyalty.tier",
        string="Loyalty Tier",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="customer_registry.group_registry_user",
    )
    loyalty_tier_name = fields.Char(related="loyalty_tier_id.name", string="Tier Name")
    loyalty_entry_ids = fields.One2many(
        "customer.loyalty.entry",
        "member_id",
        string="Loyalty Entries",
        readonly=True,
        groups="customer_registry.group_registry_user",
    )
    loyalty_entry_count = fields.Integer(
        compute="_compute_loyalty_entry_count", groups="customer_registry.group_registry_user"
    )

    def _compute_loyalty_entry_count(self):
        counts = dict(
            self.env["customer.loyalty.entry"]._read_group([("member_id", "in", self.ids)], ["member_id"], ["__count"])
        )
        for partner in self:
            partner.loyalty_entry_count = counts.get(partner, 0)

    def action_open_loyalty_entries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("customer_registry.action_customer_loyalty_entry")
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {"default_member_id": self.id}
        return action

    def action_open_loyalty_adjustment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust Loyalty Points"),
            "res_model": "customer.loyalty.adjustment",
            "view_mode": "form",
            "target": "new",
            "context": {"default_member_id": self.id},
        }

    @api.model
    def _loyalty_spend_since(self):
        return fields.Datetime.now() - relativedelta(months=12)

    def _recompute_loyalty_tier(self):
        """Tier from each member's paid POS orders of the last 12 months (one query for all)."""
        members = self.filtered("is_registry_member")
        if not members:
            return
        self.env["pos.order"].flush_model(["partner_id", "state", "amount_total", "date_order"])
        self.env.cr.execute(
            SQL(
                """SELECT partner.id, partner.company_id, partner.loyalty_tier_id, COALESCE(SUM(o.amount_total), 0)
                 FROM res_partner partner
                 LEFT JOIN pos_order o ON o.partner_id = partner.id AND o.state IN ('paid', 'done')
                                      AND o.date_order >= %s
                WHERE partner.id = ANY(%s)
                GROUP BY partner.id""",
                self._loyalty_spend_since(),
                members.ids,
            )
        )
        Program = self.env["customer.loyalty.program"]
        Entry = self.env["customer.loyalty.entry"]
        for member_id, company_id, current_tier, spend in self.env.cr.fetchall():
            program = Program._for_company(company_id or self.env.company.id)
            tier_id = program._tier_for_spend(spend)[0] if program else False
            if (tier_id or None) != current_tier:
                Entry._set_tier(self.browse(member_id), tier_id)

    @api.model
    def _cron_recompute_loyalty_tiers(self, batch_size=1000):
        last_id = 0
        while True:
            members = self.search(
                [("is_registry_member", "=", True), ("id", ">", last_id)], order="id", limit=batch_size
            )
            if not members:
                break
            members._recompute_loyalty_tier()
            last_id = members[-1].id
            self.env["ir.cron"]._commit_progress(len(members))

    # Point of Sale

    @api.model
    def _load_pos_data_fields(self, config):
        return [*super()._load_pos_data_fields(config), "loyalty_balance", "loyalty_tier_name"]
