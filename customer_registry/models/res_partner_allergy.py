from odoo import api, fields, models
from odoo.exceptions import ValidationError

ALLERGY_RELATION = "customer_allergen_res_partner_rel"
SEVERE_RELATION = "customer_allergen_severe_res_partner_rel"


class ResPartner(models.Model):
    """The severity of a member's allergies, and the health data the till needs to warn.

    A severe allergy is one where traces are not tolerated: the till warns about
    products that may contain it too.  Stored as a second relation beside the
    allergies, so that the database's health-data guard (no row without a valid
    health consent) and the deletions on withdrawal, erasure and storage limit
    hold for it exactly as for the allergies (see registry_sql).
    """

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    registry_severe_allergen_ids = fields.Many2many(
        "customer.allergen",
        SEVERE_RELATION,
        "res_partner_id",
        "customer_allergen_id",
        string="Severe Allergies (Traces Too)",
        groups="customer_registry.group_registry_user",
        help="Allergies of this member where traces are not tolerated: the till warns about products that may "
        "contain them too. Health data: only with the member's valid health consent, and only among the allergies.",
    )

    # What the till loads of the two relations above: one short text per member, so that the
    # 9 in 10 members without allergies cost one `false` in the POS load data rather than two
    # empty lists (benchmarks/till.py: the two lists took the worst case over the 10% limit).
    registry_allergies = fields.Char(
        string="Allergies (Till)",
        compute="_compute_registry_allergies",
        groups="customer_registry.group_registry_user",
        help="The member's allergies as the till loads them: allergen ids separated by commas, a severe one "
        "(traces not tolerated) marked with '!', e.g. '3!,7'. Empty without a valid health consent.",
    )

    @api.depends("registry_allergen_ids", "registry_severe_allergen_ids")
    def _compute_registry_allergies(self):
        for partner in self:
            severe = set(partner.registry_severe_allergen_ids.ids)
            partner.registry_allergies = (
                ",".join(
                    f"{allergen.id}!" if allergen.id in severe else str(allergen.id)
                    for allergen in partner.registry_allergen_ids
                )
                or False
            )

    @api.constrains("registry_allergen_ids", "registry_severe_allergen_ids")
    def _check_severe_allergies_are_allergies(self):
        """The readable refusal, before the database's (checked at commit)."""
        for partner in self:
            outside = partner.registry_severe_allergen_ids - partner.registry_allergen_ids
            if outside:
                raise ValidationError(
                    self.env._(
                        "A severe allergy of %(member)s must also be one of its allergies: %(allergens)s.",
                        member=partner.display_name,
                        allergens=", ".join(outside.mapped("name")),
                    )
                )

    def write(self, vals):
        result = super().write(vals)
        if "registry_allergen_ids" in vals:
            # The database drops the severity of an allergy removed (customer_registry_allergy_removed).
            self.flush_recordset(["registry_allergen_ids"])
            self.invalidate_recordset(["registry_severe_allergen_ids"])
        return result

    @api.model
    def _load_pos_data_fields(self, config):
        # Empty (false) for every member without a valid health consent: the database holds nothing else.
        # Always present, so that a member reloaded after withdrawing consent loses the allergies in the till.
        return [*super()._load_pos_data_fields(config), "registry_allergies"]
