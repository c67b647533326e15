from odoo import api, fields, models
from odoo.exceptions import ValidationError

CONTAINS_RELATION = "product_template_allergen_contains_rel"
TRACES_RELATION = "product_template_allergen_traces_rel"


class ProductTemplate(models.Model):
    """Which of the 14 EU allergens a product contains, and which it may contain as traces."""

    _inherit = "product.template"

    allergen_contains_ids = fields.Many2many(
        "customer.allergen",
        CONTAINS_RELATION,
        "product_template_id",
        "customer_allergen_id",
        string="Contains Allergens",
        help="Allergens that are ingredients of this product (Regulation (EU) No 1169/2011, Annex II).",
    )
    allergen_trace_ids = fields.Many2many(
        "customer.allergen",
        TRACES_RELATION,
        "product_template_id",
        "customer_allergen_id",
        string="May Contain (Traces)",
        help="Allergens this product may contain as traces (cross-contamination); "
        "members with a severe allergy are warned about these too.",
    )

    def init(self):
        result = super().init()
        # A product cannot list an allergen both as contained and as traces, whatever writes the rows;
        # checked at commit, so that moving an allergen from one list to the other in one save passes.
        self.env.cr.execute(ALLERGEN_OVERLAP_GUARD)
        return result

    @api.constrains("allergen_contains_ids", "allergen_trace_ids")
    def _check_allergen_contains_or_traces(self):
        """The readable refusal, before the database's."""
        for template in self:
            both = template.allergen_contains_ids & template.allergen_trace_ids
            if both:
                raise ValidationError(
                    self.env._(
                        "%(product)s cannot both contain and may contain (traces of) %(allergens)s: "
                        "keep each allergen in one list.",
                        product=template.display_name,
                        allergens=", ".join(both.mapped("name")),
                    )
                )

    @api.model
    def _load_pos_data_fields(self, config):
        return [*super()._load_pos_data_fields(config), "allergen_contains_ids", "allergen_trace_ids"]


ALLERGEN_OVERLAP_GUARD = f"""
    CREATE OR REPLACE FUNCTION customer_registry_product_allergen_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- Two transactions adding the same allergen to both lists queue on the product's row.
        PERFORM 1 FROM product_template WHERE id = NEW.product_template_id FOR UPDATE;
        IF EXISTS (SELECT 1 FROM {CONTAINS_RELATION} c JOIN {TRACES_RELATION} t
                     ON t.product_template_id = c.product_template_id
                    AND t.customer_allergen_id = c.customer_allergen_id
                  WHERE c.product_template_id = NEW.product_template_id
                    AND c.customer_allergen_id = NEW.customer_allergen_id) THEN
            RAISE EXCEPTION 'customer_registry: product template %: allergen % is listed as contained and as traces',
                NEW.product_template_id, NEW.customer_allergen_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$;
    DROP TRIGGER IF EXISTS customer_registry_product_allergen_guard ON {CONTAINS_RELATION};
    CREATE CONSTRAINT TRIGGER customer_registry_product_allergen_guard
        AFTER INSERT OR UPDATE ON {CONTAINS_RELATION}
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION customer_registry_product_allergen_guard();
    DROP TRIGGER IF EXISTS customer_registry_product_allergen_guard ON {TRACES_RELATION};
    CREATE CONSTRAINT TRIGGER customer_registry_product_allergen_guard
        AFTER INSERT OR UPDATE ON {TRACES_RELATION}
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION customer_registry_product_allergen_guard();
"""
