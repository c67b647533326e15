import logging

from odoo import api
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    """Enroll, properly this time, the contacts an earlier version half-enrolled."""
    env = api.Environment(cr, api.SUPERUSER_ID, {})
    cr.execute("SELECT partner_id FROM customer_registry_pending_enrollment")
    for (partner_id,) in cr.fetchall():
        partner = env["res.partner"].browse(partner_id).exists()
        try:
            with cr.savepoint():
                partner.write({"is_registry_member": True})
        except UserError as error:
            _logger.warning("Partner %s was half-enrolled and stays a plain contact: %s", partner_id, error)
    cr.execute("DROP TABLE customer_registry_pending_enrollment")
