from odoo import models
from odoo.tools import SQL


class CustomerKpiReport(models.Model):
    """Totals of the monthly KPIs that mean something.

    Members active in January and in February are one member, not two: a sum of monthly
    member counts over several months counts members again each month (1,733 "active
    members" in a shop of 300).  Over several months these counts read as the average
    per month: the group's sum over its distinct months, so one month's figure is still
    the sum over its points of sale.  New members and members lost add up (a member is
    new once, and lost once per spell) and stay sums.
    """

    _inherit = "customer.kpi.report"

    _monthly_averages = ("active_members", "returning_members", "repeat_members", "members_at_start")

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = aggregate_spec.partition(":")
        if func == "avg" and fname in self._monthly_averages:
            return SQL(
                "%s::numeric / NULLIF(%s, 0)",
                self._read_group_select(f"{fname}:sum", query),
                self._read_group_select("month:count_distinct", query),
            )
        return super()._read_group_select(aggregate_spec, query)
