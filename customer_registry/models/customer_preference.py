from odoo import fields, models


class CustomerPreference(models.Model):
    _name = "customer.preference"
    _description = "Customer Preference"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True)

    _name_company_unique = models.Constraint("UNIQUE(name, company_id)", "A preference with this name already exists.")
