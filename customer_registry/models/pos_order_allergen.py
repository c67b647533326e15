import logging

from odoo import fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class PosOrder(models.Model):
    """The server's re-check of the till's allergen warnings, on every sync of an order."""

    _inherit = "pos.order"  # pylint: disable=consider-merging-classes-inherited

    def _process_order(self, order, existing_order):
        # Whether the till sent confirmations, read from the payload: an order of a walk-in customer
        # without any pays no query for the re-check.
        sent = existing_order or any(
            isinstance(command, (list, tuple))
            and len(command) > 2
            and isinstance(command[2], dict)
            and command[2].get("registry_allergen_confirmed_ids")
            for command in order.get("lines") or ()
        )
        return super(PosOrder, self.with_context(registry_allergen_recheck=bool(sent)))._process_order(
            order, existing_order
        )

    def _process_saved_order(self, draft):
        # Before the order is marked paid, whose errors Odoo only logs: nothing here fails the sync.
        self._registry_check_allergens(always=self.env.context.get("registry_allergen_recheck", True))
        return super()._process_saved_order(draft)

    def _registry_allergen_conflicts(self):
        """{line id: (conflicting allergen ids, confirmed ids as sent, unconfirmed ids as stored)}, in one query.

        A conflict: the product contains one of the customer's allergies, or may contain (traces)
        one of their severe allergies.  Lines taken back (quantity <= 0) warn of nothing.
        """
        self.ensure_one()
        self.env["pos.order.line"].flush_model()
        self.env["res.partner"].flush_model(["registry_allergen_ids", "registry_severe_allergen_ids"])
        self.env["product.template"].flush_model(["allergen_contains_ids", "allergen_trace_ids"])
        self.env.cr.execute(
            SQL(
                """SELECT line.id,
                          ARRAY(SELECT c.customer_allergen_id FROM product_template_allergen_contains_rel c
                                  JOIN customer_allergen_res_partner_rel a
                                    ON a.customer_allergen_id = c.customer_allergen_id
                                   AND a.res_partner_id = %(partner)s
                                 WHERE c.product_template_id = product.product_tmpl_id AND line.qty > 0
                                 UNION
                                SELECT t.customer_allergen_id FROM product_template_allergen_traces_rel t
                                  JOIN customer_allergen_severe_res_partner_rel s
                                    ON s.customer_allergen_id = t.customer_allergen_id
                                   AND s.res_partner_id = %(partner)s
                                 WHERE t.product_template_id = product.product_tmpl_id AND line.qty > 0),
                          ARRAY(SELECT customer_allergen_id FROM pos_order_line_allergen_confirmed_rel
                                 WHERE pos_order_line_id = line.id),
                          ARRAY(SELECT customer_allergen_id FROM pos_order_line_allergen_unconfirmed_rel
                                 WHERE pos_order_line_id = line.id)
                     FROM pos_order_line line
                     JOIN product_product product ON product.id = line.product_id
                    WHERE line.order_id = %(order)s""",
                partner=self.partner_id.id or 0,
                order=self.id,
            )
        )
        return {
            line_id: (set(conflicts), set(confirmed), set(unconfirmed))
            for line_id, conflicts, confirmed, unconfirmed in self.env.cr.fetchall()
        }

    def _registry_check_allergens(self, always=True):
        """Recompute the order's allergen conflicts; keep the confirmations the server agrees with.

        - a conflict the till confirmed: kept, with the order's cashier and the till's time (never later
          than now);
        - a conflict without confirmation (an outdated till, a confirmation lost): recorded on the line as
          not confirmed, visible in the backend order; the order is synced and paid as usual;
        - a confirmation of a conflict the server does not see (a forged or outdated one): not kept.
        """
        for order in self:
            member = order.partner_id.sudo()
            if not always and not (member.is_registry_member and member.has_health_consent):
                continue  # no allergy, no confirmation sent, nothing stored before: no query
            now = fields.Datetime.now()
            lines = order.lines.sudo()
            for line_id, (conflicts, confirmed, unconfirmed) in order._registry_allergen_conflicts().items():
                kept = confirmed & conflicts
                missing = conflicts - kept
                line = lines.browse(line_id)
                vals = {}
                if kept != confirmed:
                    _logger.warning(
                        "POS order %s, line %s: allergen confirmations without a conflict (ids %s) not kept",
                        order.name,
                        line_id,
                        sorted(confirmed - kept),
                    )
                    vals["registry_allergen_confirmed_ids"] = [fields.Command.set(sorted(kept))]
                if missing != unconfirmed:
                    vals["registry_allergen_unconfirmed_ids"] = [fields.Command.set(sorted(missing))]
                    if missing:
                        _logger.warning(
                            "POS order %s, line %s: allergen conflicts not confirmed at the till (ids %s)",
                            order.name,
                            line_id,
                            sorted(missing),
                        )
                if kept:
                    confirmed_at = line.registry_allergen_confirmed_at
                    vals["registry_allergen_confirmed_at"] = min(confirmed_at, now) if confirmed_at else now
                    vals["registry_allergen_confirmed_by_id"] = (order.user_id or self.env.user).id
                elif line.registry_allergen_confirmed_at or line.registry_allergen_confirmed_by_id:
                    vals["registry_allergen_confirmed_at"] = False
                    vals["registry_allergen_confirmed_by_id"] = False
                if vals:
                    line.write(vals)
