from odoo import SUPERUSER_ID, api
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, new_test_user


def own_connection(env):
    """A second database connection, as another till or a second worker has: (cursor, superuser env)."""
    cr = db_connect(env.cr.dbname).cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


# Users who may export at all: the identity must still be refused to them.
EXPORT = "base.group_user,base.group_allow_export"


class RegistryCase(TransactionCase):
    """Members and one user per role, in two companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop AS"})
        companies = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        cls.cashier = new_test_user(
            cls.env,
            "cr_cashier",
            groups=f"{EXPORT},base.group_partner_manager,point_of_sale.group_pos_user",
            **companies,
        )
        cls.registry_user = new_test_user(
            cls.env, "cr_registry_user", groups=f"{EXPORT},customer_registry.group_registry_user", **companies
        )
        cls.pii_user = new_test_user(
            cls.env,
            "cr_pii_user",
            groups=f"{EXPORT},base.group_partner_manager,customer_registry.group_registry_pii",
            **companies,
        )
        cls.manager = new_test_user(
            cls.env, "cr_manager", groups=f"{EXPORT},customer_registry.group_registry_manager", **companies
        )
        cls.other_pii_user = new_test_user(
            cls.env,
            "cr_other_pii_user",
            groups="base.group_user,customer_registry.group_registry_pii",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.member = cls.env["res.partner"].create(
            {
                "is_registry_member": True,
                "name": "Kari Nordmann",
                "email": "kari@example.com",
                "phone": "+47 912 34 567",
                "street": "Storgata 1",
                "zip": "5003",
                "city": "Bergen",
                "country_id": cls.env.ref("base.no").id,
                "comment": "<p>Met at the opening.</p>",
            }
        )
        cls.identity = cls.member.registry_identity_ids


TEXT_TYPES = ("character varying", "text", "jsonb", "json")


def stored_places(env, values):
    """{value: ["table.column", ...]} for every text column of the database holding one of `values`.

    What a pg_dump of the database would show, without leaving the transaction.
    """
    env.flush_all()
    env.cr.execute(
        """SELECT c.table_name, array_agg(c.column_name::text)
             FROM information_schema.columns c
             JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)
            GROUP BY c.table_name""",
        [list(TEXT_TYPES)],
    )
    found = {}
    for table, columns in env.cr.fetchall():
        for column in columns:
            env.cr.execute(
                f'SELECT array_agg(DISTINCT v) FROM unnest(%s::text[]) v WHERE EXISTS (SELECT 1 FROM "{table}" '
                f"WHERE \"{column}\"::text ILIKE '%%' || v || '%%')",
                [list(values)],
            )
            for value in env.cr.fetchone()[0] or []:
                found.setdefault(value, []).append(f"{table}.{column}")
    return found
