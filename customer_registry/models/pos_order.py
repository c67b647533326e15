from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from . import registry_sql
from .customer_loyalty_entry import EARN, REDEEM, REFUND


class PosOrder(models.Model):
    _inherit = "pos.order"

    pseudonym = fields.Char(
        string="Member Code",
        compute="_compute_pseudonym",
        store=True,
        index=True,
        readonly=True,
        help="The member's card code at order time: history and analytics need no personal data.",
    )

    @api.depends("partner_id.pseudonym")
    def _compute_pseudonym(self):
        for order in self:
            order.pseudonym = order.partner_id.pseudonym or False

    def init(self):
        super().init()
        # The database sets the code from the customer and keeps no email or phone on a member's order.
        self.env.cr.execute(registry_sql.pos_order_guard_sql())

    @api.depends("partner_id")
    def _compute_contact_details(self):
        super()._compute_contact_details()
        for order in self.filtered("partner_id.is_registry_member"):
            order.email = order.mobile = False

    def _registry_forget_contact_details(self):
        """Orders of a member keep no email or phone (e.g. from before enrollment)."""
        self.write({"email": False, "mobile": False})

    def action_send_receipt(self, email, ticket_image, basic_image):
        # The receipt goes to the address given; a member's order does not keep it.
        result = super().action_send_receipt(email, ticket_image, basic_image)
        members_orders = self.filtered("partner_id.is_registry_member")
        members_orders._registry_forget_contact_details()
        # Odoo keeps sent receipts (the template does not auto-delete): a member's outgoing
        # receipt is deleted once sent, so its address stays only while it waits to go out.
        mails = self.env["mail.mail"].sudo().search([("model", "=", "pos.order"), ("res_id", "in", members_orders.ids)])
        mails.write({"auto_delete": True})
        mails.filtered(lambda mail: mail.state == "sent").unlink()
        return result

    # Loyalty:
    # Members earn, redeem and get points reversed inside the order's own sync.
    # No extra round trip and a handful of queries per paid order: the program settings are cached, lines and
    # products are already in the ORM cache, and the ledger entry plus the balance move are one INSERT ... ON
    # CONFLICT DO NOTHING.

    loyalty_points_earned = fields.Integer(
        string="Points Earned", compute="_compute_loyalty_points", groups="customer_registry.group_registry_user"
    )
    loyalty_points_redeemed = fields.Integer(
        string="Points Redeemed", compute="_compute_loyalty_points", groups="customer_registry.group_registry_user"
    )
    loyalty_balance_after = fields.Integer(
        string="Points Balance",
        compute="_compute_loyalty_points",
        groups="customer_registry.group_registry_user",
        help="The member's balance once this order was settled.",
    )

    def _compute_loyalty_points(self):
        entries = (
            self.env["customer.loyalty.entry"]
            .sudo()
            .search_fetch([("order_id", "in", self.ids)], ["order_id", "kind", "points", "balance_after"], order="id")
        )
        by_order = {}
        for entry in entries:
            by_order.setdefault(entry.order_id.id, []).append(entry)
        for order in self:
            order_entries = by_order.get(order.id, [])
            order.loyalty_points_earned = sum(e.points for e in order_entries if e.kind in (EARN, REFUND))
            order.loyalty_points_redeemed = -sum(e.points for e in order_entries if e.kind == REDEEM)
            order.loyalty_balance_after = order_entries[-1].balance_after if order_entries else 0

    @api.model
    def _load_pos_data_fields(self, config):
        fields_list = super()._load_pos_data_fields(config)
        if not fields_list:
            return fields_list
        return [*fields_list, "loyalty_points_earned", "loyalty_points_redeemed", "loyalty_balance_after"]

    def _process_saved_order(self, draft):
        # action_pos_order_paid's errors are only logged by the sync: check the
        # redemption before, so an overdrawn order fails its sync instead.
        if not draft and self.state != "cancel":
            self._loyalty_check_redemption()
        return super()._process_saved_order(draft)

    def action_pos_order_paid(self):
        result = super().action_pos_order_paid()
        self._loyalty_settle()
        return result

    # Helpers

    def _loyalty_program(self):
        if not self.partner_id.is_registry_member:
            return self.env["customer.loyalty.program"]
        return self.env["customer.loyalty.program"]._for_company(self.company_id.id)

    def _loyalty_reward_lines(self, settings):
        return self.lines.filtered(lambda line: line.product_id.id == settings["reward_product_id"])

    def _loyalty_redeemed(self, program):
        """Points the reward lines of this order spend (0 without reward lines).

        The reward may be split in one line per tax rate (each carrying the taxes of what it discounts):
        together the lines are worth a whole number of points, as the till adds them.
        """
        settings = program._settings()
        if not settings["reward_product_id"]:
            return 0
        reward_lines = self._loyalty_reward_lines(settings)
        discount = -sum(reward_lines.mapped("price_subtotal_incl"))
        if not discount:
            return 0
        if discount < 0:
            raise UserError(self.env._("A loyalty reward cannot add to the price of order %s.", self.name))
        points = int(float_round(discount / settings["point_value"], precision_rounding=1))
        # Each line is rounded to the currency on its own: one rounding step per line at most.
        tolerance = self.currency_id.rounding * len(reward_lines) + 1e-9
        if points <= 0 or abs(discount - points * settings["point_value"]) > tolerance:
            raise UserError(
                self.env._(
                    "The loyalty reward of order %(order)s is worth %(discount)s, "
                    "not a whole number of points of %(value)s.",
                    order=self.name,
                    discount=discount,
                    value=settings["point_value"],
                )
            )
        return points

    def _loyalty_check_reward_lines(self, program, points):
        """The reward lines carry the taxes of what they discount and respect the program's minimum."""
        settings = program._settings()
        minimum = program.sudo().min_redeem_points
        if points < minimum:
            raise UserError(
                self.env._(
                    "Order %(order)s redeems %(points)s points: at least %(minimum)s points must be redeemed.",
                    order=self.name,
                    points=points,
                    minimum=minimum,
                )
            )
        reward_lines = self._loyalty_reward_lines(settings)
        if any(line.price_subtotal_incl > 0 for line in reward_lines):
            raise UserError(self.env._("A loyalty reward cannot add to the price of order %s.", self.name))
        amount_by_taxes = {}
        for line in self.lines - reward_lines:
            taxes = line.tax_ids.filtered(lambda tax: tax.amount_type != "fixed")
            amount_by_taxes[taxes] = amount_by_taxes.get(taxes, 0.0) + line.price_subtotal_incl
        discount_by_taxes = {}
        for line in reward_lines:
            discount_by_taxes[line.tax_ids] = discount_by_taxes.get(line.tax_ids, 0.0) - line.price_subtotal_incl
        tolerance = self.currency_id.rounding * len(reward_lines) + 1e-9
        for taxes, discount in discount_by_taxes.items():
            if taxes not in amount_by_taxes:
                raise UserError(
                    self.env._(
                        "The loyalty reward of order %(order)s carries taxes (%(taxes)s) that no other line has: "
                        "a reward carries the taxes of what it discounts.",
                        order=self.name,
                        taxes=", ".join(taxes.mapped("name")) or self.env._("none"),
                    )
                )
            if discount > amount_by_taxes[taxes] + tolerance:
                raise UserError(
                    self.env._(
                        "The loyalty reward of order %(order)s discounts %(discount)s on lines taxed %(taxes)s "
                        "that only amount to %(amount)s.",
                        order=self.name,
                        discount=discount,
                        taxes=", ".join(taxes.mapped("name")) or self.env._("none"),
                        amount=amount_by_taxes[taxes],
                    )
                )

    def _loyalty_base_amount(self, program):
        """Amount of the order that earns points, in the company currency: redeemed points earn nothing."""
        excluded = program._settings()["excluded_categ_ids"]
        amount = sum(line.price_subtotal_incl for line in self.lines if line.product_id.categ_id.id not in excluded)
        if self.currency_id != self.company_id.currency_id:
            amount = self.currency_id._convert(amount, self.company_id.currency_id, self.company_id, self.date_order)
        return self.company_id.currency_id.round(amount)

    def _loyalty_check_redemption(self):
        self.ensure_one()
        if self.lines.refunded_orderline_id:
            return  # a refund gives points back through _loyalty_reverse, it redeems nothing
        program = self._loyalty_program()
        if not program:
            reward_product_id = self._loyalty_any_reward_product()
            if reward_product_id and any(line.product_id.id == reward_product_id for line in self.lines):
                raise UserError(self.env._("Points can only be redeemed by a registry member."))
            return
        redeemed = self._loyalty_redeemed(program)
        if not redeemed:
            return
        self._loyalty_check_reward_lines(program, redeemed)
        balance, _spend, _tier = self.env["customer.loyalty.entry"]._lock_member(self.partner_id)
        if redeemed > balance:
            raise UserError(
                self.env._(
                    "Member %(code)s has %(balance)s points: the order redeems %(points)s. "
                    "Remove the reward and try again.",
                    code=self.partner_id.pseudonym,
                    balance=balance,
                    points=redeemed,
                )
            )

    def _loyalty_any_reward_product(self):
        program = self.env["customer.loyalty.program"]._for_company(self.company_id.id)
        return program._settings()["reward_product_id"] if program else False

    def _loyalty_settle(self):
        """Post this paid order's redemption, earning or refund reversal and move the tier."""
        Entry = self.env["customer.loyalty.entry"].sudo()
        for order in self:
            refunded_order = order.lines.refunded_orderline_id.order_id[:1]
            if refunded_order:
                # The refunded order's member, even when the refund was rung up without a customer.
                program = refunded_order._loyalty_program()
                if program:
                    order._loyalty_reverse(program, refunded_order)
                continue
            program = order._loyalty_program()
            if not program:
                continue
            member = order.partner_id
            balance, tier, multiplier = order._loyalty_lock_member(program, member)
            redeemed = order._loyalty_redeemed(program)
            if redeemed:
                balance = Entry._post(member, REDEEM, -redeemed, balance, program=program, order=order, tier=tier)
                if balance is None:
                    continue  # already settled: the same order synced again
                tier = None
            base = order._loyalty_base_amount(program)
            points = program._points_for(base, multiplier)
            if points > 0:
                Entry._post(member, EARN, points, balance, program=program, order=order, tier=tier, base_amount=base)
            elif tier is not None:
                Entry._set_tier(member, tier)

    def _loyalty_lock_member(self, program, member):
        """Lock the member; return (balance, tier id to set or None if unchanged, earn multiplier)."""
        Entry = self.env["customer.loyalty.entry"].sudo()
        order = self if self.partner_id == member else None
        balance, spend, current_tier_id = Entry._lock_member(member, member._loyalty_spend_since(), order)
        tier_id, multiplier = program._tier_for_spend(spend)
        return balance, (tier_id if (tier_id or None) != current_tier_id else None), multiplier

    def _loyalty_reverse(self, program, refunded_order):
        """Take back the refunded share of what `refunded_order` earned, never below zero."""
        Entry = self.env["customer.loyalty.entry"].sudo()
        member = refunded_order.partner_id
        balance, tier, _multiplier = self._loyalty_lock_member(program, member)
        earned = Entry.search_fetch(
            [("order_id", "=", refunded_order.id), ("kind", "=", EARN)], ["points", "base_amount"]
        )
        reversed_before = Entry.search_fetch(
            [("origin_order_id", "=", refunded_order.id), ("kind", "=", REFUND)], ["points", "points_unreversed"]
        )
        due = 0
        if earned and earned.base_amount:
            left = earned.points - sum(-entry.points + entry.points_unreversed for entry in reversed_before)
            share = min(1.0, -self._loyalty_base_amount(program) / earned.base_amount)
            due = min(left, int(float_round(earned.points * share, precision_rounding=1, rounding_method="HALF-UP")))
        if due <= 0:
            if tier is not None:
                Entry._set_tier(member, tier)
            return
        taken = min(due, balance)
        note = False
        if taken < due:
            note = self.env._(
                "%(missing)s of %(due)s points could not be reversed: the member had already spent them.",
                missing=due - taken,
                due=due,
            )
        Entry._post(
            member,
            REFUND,
            -taken,
            balance,
            program=program,
            order=self,
            tier=tier,
            origin_order_id=refunded_order.id,
            points_unreversed=due - taken,
            note=note,
            base_amount=self._loyalty_base_amount(program),
        )
