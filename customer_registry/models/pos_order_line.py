from odoo import api, fields, models
from odoo.exceptions import UserError

from . import registry_sql

MANAGER_GROUP = "customer_registry.group_registry_manager"

# The four fields of a line's allergen warning.  Only the server's re-check of a synced order writes
# them (pos_order_allergen); the till's payload is read, sanitised and stripped of them before Odoo
# creates the lines.
ALLERGEN_LINE_FIELDS = (
    "registry_allergen_confirmed_ids",
    "registry_allergen_unconfirmed_ids",
    "registry_allergen_confirmed_by_id",
    "registry_allergen_confirmed_at",
)
# What the till sends with a line; the other two are the server's.
ALLERGEN_SENT_FIELDS = ("registry_allergen_confirmed_ids", "registry_allergen_confirmed_at")

# The re-check's permission to write the fields: an object, not a value, so that no RPC (whose context
# is JSON) can pass it.
RECHECK_WRITE = object()
RECHECK_WRITE_KEY = "customer_registry_allergen_recheck_write"


class PosOrderLine(models.Model):
    """The till's allergen warning of a line: what the cashier confirmed, and what the server found unconfirmed.

    No free text: the product is the line's, the allergens are records, the user and time are the
    cashier's confirmation.  Health data about the order's member: readable by registry
    administrators only (a cashier warns from the member's allergies as they are now, not from past
    orders), written by the sync's re-check only, and in the database only while the member's
    health consent is valid when the row is written.
    """

    _inherit = "pos.order.line"

    registry_allergen_confirmed_ids = fields.Many2many(
        "customer.allergen",
        "pos_order_line_allergen_confirmed_rel",
        "pos_order_line_id",
        "customer_allergen_id",
        string="Allergens Confirmed",
        readonly=True,
        copy=False,
        groups=MANAGER_GROUP,
        help="Allergens of the customer this product contains (or may contain, for a severe allergy) that the "
        "cashier confirmed the customer was told of. Kept only where the server found the same conflict.",
    )
    registry_allergen_unconfirmed_ids = fields.Many2many(
        "customer.allergen",
        "pos_order_line_allergen_unconfirmed_rel",
        "pos_order_line_id",
        "customer_allergen_id",
        string="Allergens Not Confirmed",
        readonly=True,
        copy=False,
        groups=MANAGER_GROUP,
        help="Allergen conflicts the server found when the order was synced that the till did not confirm "
        "(e.g. a till with outdated data): the order is kept, the conflict shown here.",
    )
    registry_allergen_confirmed_by_id = fields.Many2one(
        "res.users",
        string="Allergens Confirmed By",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups=MANAGER_GROUP,
    )
    registry_allergen_confirmed_at = fields.Datetime(
        string="Allergens Confirmed On", readonly=True, copy=False, groups=MANAGER_GROUP
    )

    def init(self):
        result = super().init()
        # No line names an allergen of a customer without a valid health consent, whatever writes the row.
        self.env.cr.execute(registry_sql.order_line_allergen_guard_sql())
        return result

    @api.model
    def _read_group_groupby(self, alias, groupby_spec, query):
        # Odoo checks the user's access to a field it groups by, except for a many2many: grouping the lines
        # by their allergens would list them to any POS user.
        field = self._fields.get(groupby_spec.split(":", 1)[0].split(".", 1)[0])
        if field is not None and field.type == "many2many":
            self._check_field_access(field, "read")
        return super()._read_group_groupby(alias, groupby_spec, query)

    def _registry_check_allergen_write(self, vals_list):
        if self.env.context.get(RECHECK_WRITE_KEY) is RECHECK_WRITE:
            return
        written = sorted({name for vals in vals_list for name in ALLERGEN_LINE_FIELDS if name in vals})
        for name in written:
            self._check_field_access(self._fields[name], "write")  # a cashier: not even allowed to ask
        if written:
            raise UserError(
                self.env._(
                    "The allergen warning of an order line (%(fields)s) is recorded by the till's synchronisation "
                    "only: it cannot be edited.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in written),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._registry_check_allergen_write(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._registry_check_allergen_write([vals])
        return super().write(vals)
