import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_round

from . import registry_sql
from .customer_loyalty_entry import EARN, REDEEM, REFUND, RESTORE

_logger = logging.getLogger(__name__)


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

    def write(self, vals):
        if vals.get("partner_id"):
            for order in self:
                order._check_member_company(vals["partner_id"], order.company_id.id)
        return super().write(vals)

    @api.model
    def _check_member_company(self, partner_id, company_id, session_id=None):
        """The readable refusal of a member of another company (the database refuses it too)."""
        member = self.env["res.partner"].sudo().browse(partner_id or [])
        if not member.is_registry_member:
            return
        if not company_id and session_id:
            company_id = self.env["pos.session"].sudo().browse(session_id).config_id.company_id.id
        company_id = company_id or self.env.company.id
        if member.company_id.id != company_id:
            raise UserError(
                self.env._(
                    "Member %(code)s belongs to %(company)s: serve them at that company's points of sale.",
                    code=member.pseudonym,
                    company=member.company_id.name,
                )
            )

    def init(self):
        result = super().init()
        # The database sets the code from the customer and keeps no email or phone on a member's order.
        self.env.cr.execute(registry_sql.pos_order_guard_sql())
        return result

    @api.depends("partner_id")
    def _compute_contact_details(self):
        result = super()._compute_contact_details()
        for order in self.filtered("partner_id.is_registry_member"):
            order.email = order.mobile = False
        return result

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
    # products are already in the ORM cache, and the order's entries are one INSERT whose trigger moves the
    # member's balance and tier.

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

    loyalty_state = fields.Selection(
        [("pending", "Pending"), ("settled", "Settled"), ("failed", "Not Settled")],
        string="Loyalty Settlement",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Whether the order's loyalty entries (earning, redemption, refund reversal) were posted. "
        "Orders not settled are found and settled again by the loyalty reconciliation.",
    )
    loyalty_error = fields.Text(
        string="Loyalty Settlement Error",
        readonly=True,
        copy=False,
        groups="customer_registry.group_registry_user",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_member_company(vals.get("partner_id"), vals.get("company_id"), vals.get("session_id"))
        # Orders of a member, and refunds (their original buyer may be a member), await their settlement.
        member_ids = set(
            self.env["res.partner"]
            .browse({vals["partner_id"] for vals in vals_list if vals.get("partner_id")})
            .filtered("is_registry_member")
            .ids
        )
        for vals in vals_list:
            refunds = any(
                isinstance(command, (list, tuple))
                and len(command) > 2
                and isinstance(command[2], dict)
                and command[2].get("refunded_orderline_id")
                for command in vals.get("lines") or ()
            )
            if vals.get("partner_id") in member_ids or refunds:
                vals.setdefault("loyalty_state", "pending")
        return super().create(vals_list)

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
        """The program this order earns and redeems under: its company's, for a member of that company."""
        partner = self.partner_id
        if not partner.is_registry_member or partner.company_id != self.company_id:
            return self.env["customer.loyalty.program"]
        return self.env["customer.loyalty.program"]._for_company(self.company_id.id)

    def _loyalty_reward_lines(self, settings):
        """Lines of the order spending points: reward lines that refund nothing."""
        return self.lines.filtered(
            lambda line: line.product_id.id == settings["reward_product_id"] and not line.refunded_orderline_id
        )

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

    def _loyalty_base_amount(self, program, lines=None):
        """Amount of `lines` (default: the order's) that earns points, in the company currency.

        Redeemed points earn nothing: reward lines count negatively.
        """
        excluded = program._settings()["excluded_categ_ids"]
        lines = self.lines if lines is None else lines
        amount = sum(line.price_subtotal_incl for line in lines if line.product_id.categ_id.id not in excluded)
        if self.currency_id != self.company_id.currency_id:
            amount = self.currency_id._convert(amount, self.company_id.currency_id, self.company_id, self.date_order)
        return self.company_id.currency_id.round(amount)

    def _loyalty_check_redemption(self):
        """Refuse an order whose new reward lines spend more points than its member has (refunds included)."""
        self.ensure_one()
        reward_product_id = self._loyalty_any_reward_product()
        if not reward_product_id or not any(
            line.product_id.id == reward_product_id and not line.refunded_orderline_id for line in self.lines
        ):
            return
        program = self._loyalty_program()
        if not program:
            partner = self.partner_id
            if partner.is_registry_member and partner.company_id != self.company_id:
                raise UserError(
                    self.env._(
                        "Member %(code)s belongs to %(company)s: its points cannot be redeemed at %(here)s.",
                        code=partner.pseudonym,
                        company=partner.company_id.name,
                        here=self.company_id.name,
                    )
                )
            raise UserError(self.env._("Points can only be redeemed by a registry member."))
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
        if self.lines.refunded_orderline_id:
            # The refund in the same order may take points back first.
            self._loyalty_check_postings(self._loyalty_postings())

    def _loyalty_any_reward_product(self):
        program = self.env["customer.loyalty.program"]._for_company(self.company_id.id)
        return program._settings()["reward_product_id"] if program else False

    # Settlement: every paid order once; a failure is recorded on the order, never lost.

    def _loyalty_settle(self):
        """Post each paid order's ledger entries, all or none; record a failure on the order.

        All entries of an order are computed first and posted by one INSERT per
        member: a Python error posts nothing, and a database error aborts the
        sync itself (the POS keeps the order and sends it again).  Either way no
        order is left half settled.  Orders already settled are skipped.
        """
        for order in self:
            if order.loyalty_state == "settled" or not (order.loyalty_state or order._loyalty_concerned()):
                continue
            try:
                postings = order._loyalty_postings()
                order._loyalty_check_postings(postings)  # every check before the first INSERT
            except psycopg2.Error:
                raise  # the transaction is aborted: the sync fails and the POS sends the order again
            except Exception as error:  # pylint: disable=broad-exception-caught
                # Any other failure is recorded where a manager sees it; the sync goes on.
                _logger.warning("Loyalty settlement of %s failed: %s", order.name, error, exc_info=True)
                order._loyalty_record_failure(error)
                continue
            Entry = self.env["customer.loyalty.entry"].sudo()
            balances = {}
            for member, balance, rows in postings:
                # A refund and a sale of the same member in one order: the second starts where the first ended.
                balances[member.id] = Entry._insert(member, balances.get(member.id, balance), rows)
            order.loyalty_state = "settled"
            if order.loyalty_error:
                order.sudo().loyalty_error = False

    def _loyalty_check_postings(self, postings):
        """Refuse postings that would overdraw a member (a refund's reversal and a reward in one order)."""
        Entry = self.env["customer.loyalty.entry"].sudo()
        balances = {}
        for member, balance, rows in postings:
            balances[member.id] = Entry._check_rows(member, balances.get(member.id, balance), rows)

    def _loyalty_concerned(self):
        """Whether settling this order may post anything (an order created before its state was kept)."""
        return self.partner_id.is_registry_member or bool(
            self.lines.refunded_orderline_id.order_id.partner_id.filtered("is_registry_member")
        )

    def _loyalty_record_failure(self, error):
        message = error.args[0] if isinstance(error, UserError) and error.args else repr(error)
        self.sudo().write({"loyalty_state": "failed", "loyalty_error": str(message)})

    def _loyalty_postings(self):
        """[(member, locked balance, entry rows)] this paid order posts; nothing is written here."""
        self.ensure_one()
        postings = []
        refund_lines = self.lines.filtered("refunded_orderline_id")
        origin = refund_lines.refunded_orderline_id.order_id[:1]
        if origin:
            # The refunded order's member, even when the refund was rung up without a customer.
            origin_program = origin._loyalty_program()
            if origin_program:
                postings.append(self._loyalty_reverse(origin_program, origin))
        program = self._loyalty_program()
        sale_lines = self.lines - refund_lines
        if program and sale_lines:
            postings.append(self._loyalty_sale_rows(program, sale_lines))
        return [posting for posting in postings if posting[2]]

    def _loyalty_sale_rows(self, program, lines):
        """Tier change, redemption and earning of the order's sale lines."""
        Entry = self.env["customer.loyalty.entry"].sudo()
        member = self.partner_id
        balance, spend, current_tier = Entry._lock_member(member, member._loyalty_spend_since(), self)
        tier_id, multiplier = program._tier_for_spend(spend)
        rows = []
        if (tier_id or None) != current_tier:
            rows.append(Entry._tier_row(member, program, tier_id, note=self._loyalty_tier_note(spend)))
        redeemed = self._loyalty_redeemed(program)
        if redeemed:
            rows.append(Entry._row(member, REDEEM, -redeemed, program=program, order=self))
        base = self._loyalty_base_amount(program, lines)
        points = program._points_for(base, multiplier)
        if points > 0:
            rows.append(Entry._row(member, EARN, points, program=program, order=self, base_amount=base))
        return member, balance, rows

    def _loyalty_tier_note(self, spend):
        return self.env._("Rolling 12-month spend %(spend)s after order %(order)s.", spend=spend, order=self.name)

    @staticmethod
    def _loyalty_cumulative_share(total, done, points):
        """Points due once `done` of `total` is refunded: rounded on the cumulative share, all at the end."""
        if total <= 0 or done <= 0:
            return 0
        if done >= total - 0.005:
            return points
        return int(float_round(points * done / total, precision_rounding=1, rounding_method="HALF-UP"))

    def _loyalty_reverse(self, program, origin):
        """Take back the refunded share of what `origin` earned and give back the refunded share it redeemed.

        Shares are cumulative over every paid refund of the origin's lines, this
        one included: refunds in any number of parts take back, in total, exactly
        what one full refund would (the last part takes what is left).  Earned
        points are taken back never below zero; redeemed points come back in the
        share of the reward lines refunded.
        """
        Entry = self.env["customer.loyalty.entry"].sudo()
        member = origin.partner_id
        locked_balance, spend, current_tier = Entry._lock_member(
            member, member._loyalty_spend_since(), self, order_counts=True
        )
        balance = locked_balance
        entries = Entry.search_fetch(
            ["|", ("order_id", "=", origin.id), ("origin_order_id", "=", origin.id)],
            ["kind", "points", "points_unreversed", "base_amount", "order_id"],
        )
        earned = entries.filtered(lambda e: e.kind == EARN and e.order_id == origin)[:1]
        redeemed = -sum(e.points for e in entries if e.kind == REDEEM and e.order_id == origin)
        refund_lines = origin.lines.refund_orderline_ids.filtered(
            lambda line: line.order_id == self or line.order_id.state in ("paid", "done")
        )
        rows = []
        tier_id, _multiplier = program._tier_for_spend(spend)
        if (tier_id or None) != current_tier:
            rows.append(Entry._tier_row(member, program, tier_id, note=self._loyalty_tier_note(spend)))
        refund_base = -self._loyalty_base_amount(program, refund_lines)
        if earned and earned.base_amount > 0:
            taken_before = sum(-e.points + e.points_unreversed for e in entries if e.kind == REFUND)
            due = self._loyalty_cumulative_share(earned.base_amount, refund_base, earned.points) - taken_before
            due = min(due, earned.points - taken_before)
            if due > 0:
                taken = min(due, balance)
                note = False
                if taken < due:
                    note = self.env._(
                        "%(missing)s of %(due)s points could not be reversed: the member had already spent them.",
                        missing=due - taken,
                        due=due,
                    )
                balance -= taken
                rows.append(
                    Entry._row(
                        member,
                        REFUND,
                        -taken,
                        program=program,
                        order=self,
                        origin_order_id=origin.id,
                        points_unreversed=due - taken,
                        note=note,
                        base_amount=self._loyalty_base_amount(program, self.lines & refund_lines),
                    )
                )
        if redeemed > 0:
            settings = program._settings()
            reward_lines = origin.lines.filtered(lambda line: line.product_id.id == settings["reward_product_id"])
            discount = -sum(reward_lines.mapped("price_subtotal_incl"))
            returned = sum((refund_lines & reward_lines.refund_orderline_ids).mapped("price_subtotal_incl"))
            given_before = sum(e.points for e in entries if e.kind == RESTORE)
            back = self._loyalty_cumulative_share(discount, returned, redeemed) - given_before
            if back > 0:
                rows.append(
                    Entry._row(
                        member,
                        RESTORE,
                        back,
                        program=program,
                        order=self,
                        origin_order_id=origin.id,
                        note=self.env._("Redeemed points given back by refund %s.", self.name),
                    )
                )
        return member, locked_balance, rows

    # Reconciliation

    @api.model
    def _loyalty_unsettled_domain(self):
        return [
            ("state", "in", ("paid", "done")),
            ("loyalty_state", "in", ("pending", "failed")),
        ]

    @api.model
    def _loyalty_reconcile(self, orders=None, limit=None):
        """Settle paid orders whose settlement failed or never ran; idempotent. Return (settled, failed)."""
        if orders is None:
            orders = self.sudo().search(self._loyalty_unsettled_domain(), order="date_order, id", limit=limit)
        else:
            orders = orders.sudo().filtered_domain(self._loyalty_unsettled_domain())
        if not orders:
            return 0, 0
        # An order whose entries exist was settled before the state was recorded: do not post twice.
        posted = {
            order.id
            for order in self.env["customer.loyalty.entry"]
            .sudo()
            .search([("order_id", "in", orders.ids), ("kind", "!=", "tier")])
            .order_id
        }
        settled = failed = 0
        for order in orders:
            if order.id in posted:
                order.loyalty_state = "settled"
                settled += 1
                continue
            order._loyalty_settle()
            if order.loyalty_state == "settled":
                settled += 1
            else:
                failed += 1
        return settled, failed

    @api.model
    def _cron_loyalty_reconcile(self):
        settled, failed = self._loyalty_reconcile()
        _logger.info("Loyalty reconciliation: %d orders settled, %d still failing", settled, failed)

    def action_loyalty_settle(self):
        """Settle the selected orders again (or every unsettled paid order), as the scheduled job does."""
        if not self.env.user.has_group("customer_registry.group_registry_manager"):
            raise AccessError(self.env._("Only loyalty managers can settle loyalty points."))
        settled, failed = self._loyalty_reconcile(self if self else None)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Loyalty settlement"),
                "message": self.env._(
                    "%(settled)s orders settled, %(failed)s still failing.", settled=settled, failed=failed
                ),
                "type": "danger" if failed else "success",
                "sticky": bool(failed),
            },
        }
