import logging
from datetime import datetime, timedelta
from uuid import uuid4

from odoo import fields, models
from odoo.tools import SQL

from .pos_order_line import ALLERGEN_LINE_FIELDS, RECHECK_WRITE, RECHECK_WRITE_KEY

_logger = logging.getLogger(__name__)

# A confirmation is made on the till while the order is open: never before the order's date (the till's
# clock for both), less this margin for a till whose clock was set while the order was open.
CONFIRMED_BEFORE_ORDER_MARGIN = timedelta(minutes=5)


class PosOrder(models.Model):
    """The server's re-check of the till's allergen warnings, on every sync of an order."""

    _inherit = "pos.order"  # pylint: disable=consider-merging-classes-inherited

    def _process_order(self, order, existing_order):
        sent, any_sent = self._registry_take_allergen_confirmations(order)
        # An order of a walk-in customer that sent nothing of the warning pays no query for the re-check.
        context = {
            "registry_allergen_recheck": bool(existing_order or any_sent),
            "registry_allergen_sent": sent,
        }
        if existing_order:
            existing_order = existing_order.with_context(**context)
        return super(PosOrder, self.with_context(**context))._process_order(order, existing_order)

    def _registry_take_allergen_confirmations(self, order):
        """Strip the allergen fields from the lines of a till's payload; return what the till confirmed.

        ({line key: (confirmed allergen ids, confirmed at)}, whether any line sent a value of the fields):
        the key is the line's uuid (a new line, given one if the payload has none) or id (an updated
        line); only lines that confirmed something.  The till sends the allergens and the time; who
        confirmed and what was not confirmed are the server's, dropped whatever the payload says.  Bad
        values (an unknown allergen, a time that is no time) are dropped with a warning: one bad line
        never fails the sync of the order.
        """
        taken = {}
        any_sent = False
        for command in order.get("lines") or ():
            if not (isinstance(command, (list, tuple)) and len(command) > 2 and isinstance(command[2], dict)):
                continue
            values = command[2]
            sent = {name: values.pop(name) for name in ALLERGEN_LINE_FIELDS if name in values}
            any_sent = any_sent or any(sent.values())
            forged = sorted(
                name
                for name in ("registry_allergen_unconfirmed_ids", "registry_allergen_confirmed_by_id")
                if sent.get(name)
            )
            if forged:
                _logger.warning(
                    "POS order %s: the till sent %s, which only the server sets: ignored",
                    order.get("uuid"),
                    ", ".join(forged),
                )
            allergen_ids = self._registry_sent_allergen_ids(sent.get("registry_allergen_confirmed_ids"), order)
            confirmed_at = self._registry_sent_time(sent.get("registry_allergen_confirmed_at"), order)
            if not (allergen_ids or confirmed_at):
                continue
            if command[0] == fields.Command.CREATE:
                if not values.get("uuid"):
                    values["uuid"] = str(uuid4())
                key = values["uuid"]
            elif command[0] == fields.Command.UPDATE and isinstance(command[1], int):
                key = command[1]
            else:
                continue
            taken[key] = (allergen_ids, confirmed_at)
        if taken:
            known = set(
                self.env["customer.allergen"]
                .sudo()
                .browse({allergen_id for ids, _at in taken.values() for allergen_id in ids})
                .exists()
                .ids
            )
            for key, (ids, confirmed_at) in taken.items():
                if ids - known:
                    _logger.warning(
                        "POS order %s: unknown allergens %s confirmed: ignored", order.get("uuid"), sorted(ids - known)
                    )
                taken[key] = (ids & known, confirmed_at)
        return taken, any_sent

    @staticmethod
    def _registry_sent_allergen_ids(value, order):
        """The allergen ids of the till's confirmation: a list of ids (or of link / set commands)."""
        if not value:
            return set()
        ids = set()
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                ids.add(item)
            elif (
                isinstance(item, (list, tuple))
                and len(item) >= 2
                and item[0] == fields.Command.LINK
                and isinstance(item[1], int)
            ):
                ids.add(item[1])
            elif isinstance(item, (list, tuple)) and len(item) == 3 and item[0] == fields.Command.SET:
                ids.update(i for i in item[2] or () if isinstance(i, int) and not isinstance(i, bool))
            else:
                _logger.warning(
                    "POS order %s: allergen confirmation %r is no allergen id: ignored", order.get("uuid"), item
                )
        return {allergen_id for allergen_id in ids if allergen_id > 0}

    @staticmethod
    def _registry_sent_time(value, order):
        if not value:
            return None
        try:
            confirmed_at = fields.Datetime.to_datetime(value)
        except (TypeError, ValueError):
            confirmed_at = None
        if not isinstance(confirmed_at, datetime):
            _logger.warning(
                "POS order %s: allergen confirmation time %r is no time: the server's is used", order.get("uuid"), value
            )
            return None
        return confirmed_at

    def _process_saved_order(self, draft):
        # Before the order is marked paid, whose errors Odoo only logs: nothing here fails the sync.
        self._registry_check_allergens(
            always=self.env.context.get("registry_allergen_recheck", True),
            sent=self.env.context.get("registry_allergen_sent") or {},
        )
        return super()._process_saved_order(draft)

    def _registry_allergen_conflicts(self):
        """[(line id, line uuid, conflicting allergen ids, stored confirmed ids, stored unconfirmed ids)], one query.

        A conflict: the product contains one of the customer's allergies, or may contain (traces)
        one of their severe allergies.  Lines taken back (quantity <= 0) warn of nothing.
        """
        self.ensure_one()
        self.env["pos.order.line"].flush_model()
        self.env["res.partner"].flush_model(["registry_allergen_ids", "registry_severe_allergen_ids"])
        self.env["product.template"].flush_model(["allergen_contains_ids", "allergen_trace_ids"])
        self.env.cr.execute(
            SQL(
                """SELECT line.id, line.uuid,
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
        return [
            (line_id, uuid, set(conflicts), set(confirmed), set(unconfirmed))
            for line_id, uuid, conflicts, confirmed, unconfirmed in self.env.cr.fetchall()
        ]

    def _registry_check_allergens(self, always=True, sent=None):
        """Recompute the order's allergen conflicts; keep the confirmations the server agrees with.

        `sent`: what the till confirmed in this sync ({line uuid or id: (allergen ids, time)}), added to
        what an earlier sync of the same order stored.

        - a conflict the till confirmed: kept; a new confirmation records the user who synced it (the
          one logged in at the till) and the till's time, within [the order's date, now];
        - a conflict without confirmation (an outdated till, a confirmation lost): recorded on the line as
          not confirmed, visible in the backend order; the order is synced and paid as usual;
        - a confirmation of a conflict the server does not see (a forged or outdated one): not kept.
        """
        sent = sent or {}
        for order in self:
            member = order.partner_id.sudo()
            if not always and not (member.is_registry_member and member.has_health_consent):
                continue  # no allergy, no confirmation sent, nothing stored before: no query
            now = fields.Datetime.now()
            lines = order.lines.sudo().with_context(**{RECHECK_WRITE_KEY: RECHECK_WRITE})
            for line_id, uuid, conflicts, stored, unconfirmed in order._registry_allergen_conflicts():
                sent_ids, sent_at = sent.get(uuid) or sent.get(line_id) or (set(), None)
                confirmed = stored | sent_ids
                kept = confirmed & conflicts
                missing = conflicts - kept
                line = lines.browse(line_id)
                vals = {}
                if confirmed - kept:
                    _logger.warning(
                        "POS order %s, line %s: allergen confirmations without a conflict (ids %s) not kept",
                        order.name,
                        line_id,
                        sorted(confirmed - kept),
                    )
                if kept != stored:
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
                if kept - stored:
                    # A new confirmation: the authenticated user (not the payload's user_id), the till's time.
                    earliest = (order.date_order or now) - CONFIRMED_BEFORE_ORDER_MARGIN
                    vals["registry_allergen_confirmed_at"] = min(max(sent_at or now, earliest), now)
                    vals["registry_allergen_confirmed_by_id"] = self.env.user.id
                elif not kept and (line.registry_allergen_confirmed_at or line.registry_allergen_confirmed_by_id):
                    vals["registry_allergen_confirmed_at"] = False
                    vals["registry_allergen_confirmed_by_id"] = False
                if vals:
                    line.write(vals)
