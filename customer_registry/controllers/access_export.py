import json

from odoo import http
from odoo.http import request


class AccessExportController(http.Controller):
    """A member's copy of their data, streamed and never stored in the database."""

    @http.route("/customer_registry/access_export/<int:partner_id>", type="http", auth="user", methods=["GET"])
    def access_export(self, partner_id, format="json"):  # pylint: disable=redefined-builtin
        member = request.env["res.partner"].browse(partner_id)
        data = member._registry_access_export()
        filename = f"member-{data['member_code']}"
        if format == "html":
            body = request.env["ir.qweb"]._render("customer_registry.access_export_document", {"data": data})
            headers = [("Content-Type", "text/html; charset=utf-8")]
            return request.make_response(body, headers=headers)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Disposition", f'attachment; filename="{filename}.json"'),
        ]
        return request.make_response(json.dumps(data, indent=2, ensure_ascii=False), headers=headers)
