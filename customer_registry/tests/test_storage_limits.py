"""Storage limits (GDPR Art. 5(1)(e)): the daily job erases what is past them, in batches, resumably."""
# The job commits per batch; a second database connection sees only committed rows: these tests commit.
# pylint: disable=invalid-commit

import psycopg2

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import own_connection


@tagged("post_install", "-at_install")
class TestStorageLimits(TransactionCase):
    def connect(self):
        return own_connection(self.env)

    def setUp(self):
        super().setUp()
        cr, env = self.connect()
        with cr:
            self.company_id = env.company.id
            self.previous_limits = (env.company.registry_erase_inactive_months, env.company.registry_health_data_months)
            nuts = env.ref("customer_registry.allergen_nuts")
            members = env["res.partner"].create(
                [{"name": f"Inactive Ingrid {index}", "is_registry_member": True} for index in range(3)]
                + [{"name": "Recent Rolf", "is_registry_member": True}]
            )
            env["customer.consent"].create({"partner_id": members[-1].id, "purpose": "health"})
            members[-1].registry_allergen_ids = nuts
            members[-1].registry_severe_allergen_ids = nuts
            # Enrolled three years ago and never bought since; Rolf joined last month.
            cr.execute(
                "UPDATE res_partner SET create_date = now() - interval '3 years',"
                " registry_enrolled_at = now() - interval '3 years' WHERE id = ANY(%s)",
                [members[:3].ids],
            )
            cr.execute(
                "UPDATE res_partner SET create_date = now() - interval '1 month',"
                " registry_enrolled_at = now() - interval '1 month' WHERE id = %s",
                [members[3].id],
            )
            cr.commit()
            self.member_ids = members.ids
        self.addCleanup(self.cleanup)

    def cleanup(self):
        cr, env = self.connect()
        with cr:
            env.company.write(
                dict(
                    zip(
                        ("registry_erase_inactive_months", "registry_health_data_months"),
                        self.previous_limits,
                        strict=True,
                    )
                )
            )
            cr.execute("SET LOCAL session_replication_role = replica")  # the erasure log is append-only
            cr.execute("DELETE FROM customer_erasure_log WHERE member_id = ANY(%s)", [self.member_ids])
            cr.execute("SET LOCAL session_replication_role = DEFAULT")
            env["res.partner"].with_context(active_test=False).browse(self.member_ids).unlink()
            cr.commit()

    def state(self):
        cr, env = self.connect()
        with cr:
            partners = env["res.partner"].with_context(active_test=False).browse(self.member_ids)
            logs = env["customer.erasure.log"].search([("member_id", "in", self.member_ids)])
            return (
                [bool(partner.registry_erased_at) for partner in partners],
                sorted(logs.mapped("pseudonym")),
                partners[-1].registry_allergen_ids,
            )

    def test_dry_run_lists_codes_and_changes_nothing(self):
        cr, env = self.connect()
        with cr:
            env.company.registry_erase_inactive_months = 24
            cr.commit()
            settings = env["res.config.settings"].create({})
            message = settings.action_registry_storage_limit_preview()["params"]["message"]
            codes = env["res.partner"].browse(self.member_ids).mapped("pseudonym")
            for code in codes[:3]:
                self.assertIn(code, message)
            self.assertNotIn(codes[3], message)
            self.assertNotIn("Ingrid", message)
            cr.rollback()
        self.assertEqual(self.state()[0], [False] * 4)

    def test_killed_job_resumes_without_erasing_twice_or_missing(self):
        cr, env = self.connect()
        with cr:
            env.company.registry_erase_inactive_months = 24
            # Rolf joined last month and has not bought yet: not due.
            cr.execute(
                "UPDATE res_partner SET create_date = now() - interval '1 month',"
                " registry_enrolled_at = now() - interval '1 month' WHERE id = %s",
                [self.member_ids[-1]],
            )
            cr.commit()
        blocker_cr, _blocker = self.connect()
        runner_cr, runner = self.connect()
        with blocker_cr, runner_cr:
            # A till holds the second member's row: the job dies waiting for it after the first batch.
            blocker_cr.execute("SELECT id FROM res_partner WHERE id = %s FOR UPDATE", [self.member_ids[1]])
            runner_cr.execute("SET lock_timeout = '300ms'")
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.LockNotAvailable):
                runner["res.partner"]._cron_registry_storage_limits(batch_size=1)
            runner_cr.rollback()
            blocker_cr.rollback()
            erased, _logged, _allergies = self.state()
            self.assertEqual(erased, [True, False, False, False], "the first batch was committed")
            runner.invalidate_all()
            runner["res.partner"]._cron_registry_storage_limits(batch_size=1)
            runner["res.partner"]._cron_registry_storage_limits(batch_size=1)
        erased, logged, allergies = self.state()
        self.assertEqual(erased, [True, True, True, False])
        self.assertEqual(len(logged), 3, "each member erased once")
        self.assertEqual(len(set(logged)), 3)
        self.assertTrue(allergies, "no health limit set: the recent member keeps their allergies")

    def test_health_data_limit_clears_allergies_only(self):
        cr, env = self.connect()
        with cr:
            env.company.write({"registry_erase_inactive_months": 0, "registry_health_data_months": 12})
            cr.execute(
                "UPDATE res_partner SET create_date = now() - interval '2 years',"
                " registry_enrolled_at = now() - interval '2 years' WHERE id = %s",
                [self.member_ids[-1]],
            )
            cr.commit()
            env["res.partner"]._cron_registry_storage_limits()
        erased, logged, allergies = self.state()
        self.assertEqual((erased, logged), ([False] * 4, []))
        self.assertFalse(allergies)
        cr, env = self.connect()
        with cr:
            cr.execute(
                "SELECT 1 FROM customer_allergen_severe_res_partner_rel WHERE res_partner_id = %s",
                [self.member_ids[-1]],
            )
            self.assertFalse(cr.fetchall(), "the severity of an allergy is health data too")
