from odoo.addons.customer_registry.models.registry_sql import repair_members_before_guards


def migrate(cr, version):
    half_members = repair_members_before_guards(cr)
    cr.execute("CREATE TABLE IF NOT EXISTS customer_registry_pending_enrollment (partner_id int PRIMARY KEY)")
    if half_members:
        cr.execute(
            "INSERT INTO customer_registry_pending_enrollment SELECT unnest(%s::int[]) ON CONFLICT DO NOTHING",
            [half_members],
        )
