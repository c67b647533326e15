"""SQL shared by the retention reports.

Every report reads the same orders: counted (paid or posted), of a member
(the order kept the member's pseudonym), in the order's company.  Months are
local months of the company's timezone (its contact's timezone, UTC if unset).
"""

from odoo.tools import SQL

COUNTED_STATES = ("paid", "done")

COMPANY_SETTINGS = """
    SELECT company.id AS company_id,
           company.currency_id,
           company.registry_churn_days AS churn_days,
           company.registry_lifespan_years AS lifespan_years,
           COALESCE(NULLIF(company_contact.tz, ''), 'UTC') AS tz,
           (NOW() AT TIME ZONE COALESCE(NULLIF(company_contact.tz, ''), 'UTC'))::date AS today
      FROM res_company company
      JOIN res_partner company_contact ON company_contact.id = company.partner_id
"""

MEMBER_ORDERS_WHERE = f"""
           o.state IN {COUNTED_STATES}
       AND o.partner_id IS NOT NULL
       AND o.pseudonym IS NOT NULL
"""

# Ordered rules, first match wins; scores are 1 (worst) to 5 (best).
RFM_SEGMENT_CASE = """
    CASE
        WHEN {r} >= 4 AND {f} >= 4 THEN 'champions'
        WHEN {r} >= 4 AND {f} = 1 THEN 'new'
        WHEN {r} >= 3 AND {f} >= 3 THEN 'loyal'
        WHEN {r} >= 3 THEN 'potential'
        WHEN {f} >= 4 AND {m} >= 4 THEN 'cant_lose'
        WHEN {f} >= 3 THEN 'at_risk'
        WHEN {r} = 2 THEN 'hibernating'
        ELSE 'lost'
    END
"""

RFM_SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential", "Potential"),
    ("new", "New"),
    ("at_risk", "At risk"),
    ("cant_lose", "Can't lose"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]


# Scores compare a member with fixed yardsticks, not with the other members: a member scores the
# same in a 20-member shop as in a million-member one, and a score needs no ranking of every
# member per request.  R measures days since the last purchase day against the churn window
# (R 3 or more: not churned; a purchase in the last 7 days always scores 5); F counts purchases
# (F 1 is exactly one purchase: a first-time buyer); M counts the spend in the company's own
# average purchases, on F's rungs.
FREQUENCY_RUNGS = (1, 2, 4, 9)  # up to this many purchases: score 1, 2, 3, 4; more: 5


RECENCY_YARDSTICKS = ("recent_5", "recent_4", "recent_3", "recent_2")
MONETARY_YARDSTICKS = ("spend_2", "spend_3", "spend_4", "spend_5")


def recency_yardsticks(today, churn_days):
    """The earliest last purchase day that still scores R 5, 4, 3, 2 (today and the window once per company).

    R is 5 if within 7 days or W/4, 4 within W/2, 3 within W, 2 within 2W: with whole days and a
    positive window, ``4 * days <= W`` is ``days <= W / 4`` in integer division, and ``days <= k``
    is ``last day >= today - k``.
    """
    limits = (f"GREATEST(7, {churn_days} / 4)", f"{churn_days} / 2", f"{churn_days}", f"2 * {churn_days}")
    return ", ".join(f"{today} - {limit} AS {name}" for limit, name in zip(limits, RECENCY_YARDSTICKS, strict=True))


def recency_score(last_date, yardsticks):
    """R from the last purchase day, against `recency_yardsticks` of the relation named `yardsticks`."""
    return f"""(CASE WHEN {last_date} >= {yardsticks}.recent_5 THEN 5
                     WHEN {last_date} >= {yardsticks}.recent_4 THEN 4
                     WHEN {last_date} >= {yardsticks}.recent_3 THEN 3
                     WHEN {last_date} >= {yardsticks}.recent_2 THEN 2
                     ELSE 1 END)"""


def rung_score(count):
    """1-5 on the frequency rungs: 1, 2, 3-4, 5-9, 10 or more (an integer count)."""
    one, two, four, nine = FREQUENCY_RUNGS
    return f"""(CASE WHEN {count} <= {one} THEN 1 WHEN {count} <= {two} THEN 2
                     WHEN {count} <= {four} THEN 3 WHEN {count} <= {nine} THEN 4 ELSE 5 END)"""


def monetary_yardsticks(average_purchase):
    """The least spend that scores M 2, 3, 4, 5: half an average purchase above each rung.

    M puts the spend counted in average purchases, rounded (half up), on F's rungs: ROUND(spend /
    average) <= 1 is spend < 1.5 averages.  A multiplication per company replaces a division per
    member.  No yardstick (NULL) while the company has no positive average: M is 1.
    """
    return ", ".join(
        f"CASE WHEN {average_purchase} > 0 THEN {rung + 0.5} * {average_purchase} END AS {name}"
        for rung, name in zip(FREQUENCY_RUNGS, MONETARY_YARDSTICKS, strict=True)
    )


def monetary_score(spend, yardsticks):
    """M from the spend, against `monetary_yardsticks` of the relation named `yardsticks`."""
    return f"""(CASE WHEN {spend} >= {yardsticks}.spend_5 THEN 5
                     WHEN {spend} >= {yardsticks}.spend_4 THEN 4
                     WHEN {spend} >= {yardsticks}.spend_3 THEN 3
                     WHEN {spend} >= {yardsticks}.spend_2 THEN 2
                     ELSE 1 END)"""


def ratio_select(model, ratios, aggregate_spec, query):
    """A rate read grouped is the ratio of the group's sums (numerator, denominator, scale), or None."""
    ratio = ratios.get(aggregate_spec.split(":")[0])
    if not ratio:
        return None
    numerator, denominator, scale = ratio
    return SQL(
        "%s * %s::numeric / NULLIF(%s, 0)",
        scale,
        model._read_group_select(f"{numerator}:sum", query),
        model._read_group_select(f"{denominator}:sum", query),
    )


def local(timestamp_column, tz_column="tz"):
    """A UTC timestamp column as the company's wall-clock time."""
    return f"(({timestamp_column}) AT TIME ZONE 'UTC' AT TIME ZONE {tz_column})"
