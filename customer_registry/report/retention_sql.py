"""SQL shared by the retention reports.

Every report reads the same orders: counted (paid or posted), of a member
(the order kept the member's pseudonym), in the order's company.  Months are
local months of the company's timezone (its contact's timezone, UTC if unset).
"""

COUNTED_STATES = ("paid", "done")

COMPANY_SETTINGS = """
    SELECT company.id AS company_id,
           company.currency_id,
           company.registry_churn_days AS churn_days,
           company.registry_lifespan_years AS lifespan_years,
           COALESCE(NULLIF(company_contact.tz, ''), 'UTC') AS tz
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


def quintile(column, partition="company_id"):
    """Score 1-5 by rank within the company; equal values share a score."""
    return f"LEAST(5, 1 + FLOOR(5 * PERCENT_RANK() OVER (PARTITION BY {partition} ORDER BY {column})))::int"


def local(timestamp_column, tz_column="tz"):
    """A UTC timestamp column as the company's wall-clock time."""
    return f"(({timestamp_column}) AT TIME ZONE 'UTC' AT TIME ZONE {tz_column})"
