from odoo import fields, models


class CustomerDiet(models.Model):
    """A dietary restriction: health or religious data, kept under consent."""

    _name = "customer.diet"
    _description = "Dietary Restriction"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _code_unique = models.Constraint("UNIQUE(code)", "A dietary restriction code must be unique.")
