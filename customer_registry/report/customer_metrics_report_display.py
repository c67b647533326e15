from odoo import api, models
from odoo.tools import SQL

from .retention_sql import RFM_SEGMENTS


class CustomerMetricsReport(models.Model):
    """How the customer metrics read on screen: by card code only, segments best first."""

    _inherit = "customer.metrics.report"

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        # The member's record displays its greeting name: the screens offer the card code
        # (pseudonym) to group and filter by, as the README promises, never the member field.
        result = super().fields_get(allfields, attributes)
        member = result.get("partner_id")
        if member is not None:
            for attribute in ("groupable", "searchable", "sortable", "exportable"):
                if attribute in member:
                    member[attribute] = False
        return result

    def _read_group_orderby(self, order, groupby_terms, query):
        # Grouped by RFM segment, rows follow the segments' order (best first), not the
        # alphabetical order of their keys.
        segment = groupby_terms.get("rfm_segment")
        if segment is None:
            return super()._read_group_orderby(order, groupby_terms, query)
        ranks = [key for key, _label in RFM_SEGMENTS]
        groupby_terms["rfm_segment"] = SQL("ARRAY_POSITION(%s::varchar[], (%s)::varchar)", ranks, segment)
        try:
            return super()._read_group_orderby(order, groupby_terms, query)
        finally:
            groupby_terms["rfm_segment"] = segment
