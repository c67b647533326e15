from odoo import models

# Imports whose file holds members' personal data (a members import, or identities).
PERSONAL_DATA_MODELS = ("res.partner", "customer.identity")


class BaseImportImport(models.TransientModel):
    _inherit = "base_import.import"

    def execute_import(self, fields, columns, options, dryrun=False):
        result = super().execute_import(fields, columns, options, dryrun=dryrun)
        # Odoo keeps the uploaded file, every value in clear, until its wizards are vacuumed (12 hours):
        # with the identities encrypted, a backup in that window would hold them. Done importing (not a
        # test, no error, no batch left), the file goes.
        done = (
            not dryrun
            and not result.get("nextrow")
            and not any(message.get("type") == "error" for message in result.get("messages", ()))
        )
        if done and self.res_model in PERSONAL_DATA_MODELS:
            self.sudo().write({"file": False})
            self.env.flush_all()
        return result
