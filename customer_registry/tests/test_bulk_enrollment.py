"""Bringing existing contacts in: thousands at a time, in committed batches, skipped ones explained, resumable."""
# The scheduled run commits per batch; a second database connection sees only committed rows: these tests commit.
# pylint: disable=invalid-commit

import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RegistryCase, own_connection, stored_places

COUNT = 2000
BATCH = 500


def person(index):
    return {
        "name": f"Bulk Bodil {index:04d}",
        "email": f"bulk.bodil.{index:04d}@example.com",
        "phone": f"+47 40 01 {index:04d}",
        "street": f"Bulkbodilveien {index}",
        "city": "Bergen",
    }


@tagged("post_install", "-at_install")
class TestBulkEnrollment(TransactionCase):
    def connect(self):
        return own_connection(self.env)

    def setUp(self):
        super().setUp()
        cr, env = self.connect()
        with cr:
            Partner = env["res.partner"].with_context(tracking_disable=True)
            contacts = Partner.create([person(index) for index in range(COUNT)])
            # Contacts that cannot become members (the run takes contacts by id: in the last batch).
            company = Partner.create({"name": "Bulk Bodil Firma AS", "is_company": True})
            parent = Partner.create({"name": "Bulk Bodil Parent"})
            child = Partner.create({"name": "Bulk Bodil Child", "parent_id": parent.id})
            banked = Partner.create({"name": "Bulk Bodil Banked"})
            env["res.partner.bank"].create({"acc_number": "NO9386011117947", "partner_id": banked.id})
            user = new_test_user(env, "cr_bulk_bodil_user", name="Bulk Bodil User")
            member = Partner.create({"name": "Bulk Bodil Member", "is_registry_member": True})
            cr.commit()
            self.contact_ids = contacts.ids
            self.refused = {
                company.id: "is a company",
                parent.id: "has child contacts",
                child.id: "is a contact of another partner",
                banked.id: "has bank accounts",
                user.partner_id.id: "is the contact of a user",
                member.id: "Already a member",
            }
            self.user_id = user.id
            self.all_ids = [*contacts.ids, *self.refused]
        self.addCleanup(self.cleanup)

    def cleanup(self):
        cr, env = self.connect()
        with cr:
            env["res.users"].browse(self.user_id).unlink()
            env["customer.enrollment.job.line"].search([("partner_id", "in", self.all_ids)]).job_id.unlink()
            partners = env["res.partner"].with_context(active_test=False).browse(self.all_ids).exists()
            (partners.child_ids | partners).unlink()
            cr.commit()

    def start(self, env):
        """The wizard on a filter finding every contact of the test, as a manager chooses "select all"."""
        wizard = (
            env["customer.enrollment.wizard"]
            .with_context(active_model="res.partner", active_domain=[("id", "in", self.all_ids)], active_ids=[])
            .create({"scope": "filter"})
        )
        self.assertEqual(wizard.candidate_count, COUNT + 6)
        action = wizard.action_enroll()
        self.assertFalse(wizard.exists(), "the filter is not kept")
        job = env["customer.enrollment.job"].browse(action["res_id"])
        self.assertEqual((job.state, job.total_count, job.pending_count), ("queued", COUNT + 6, COUNT + 6))
        return job

    def members(self, env, ids):
        env.invalidate_all()
        partners = env["res.partner"].with_context(active_test=False).browse(ids)
        return {partner.id: partner.pseudonym for partner in partners if partner.is_registry_member}

    def test_thousands_enrolled_in_batches_skipped_ones_explained_data_in_the_vault_only(self):
        cr, env = self.connect()
        with cr:
            job = self.start(env)
            cr.commit()
            env["customer.enrollment.job"]._cron_run_enrollment_jobs(batch_size=BATCH)
            job.invalidate_recordset()
            self.assertEqual((job.state, job.enrolled_count, job.skipped_count, job.progress), ("done", COUNT, 6, 100))
            reasons = {line.partner_id.id: line.reason for line in job.line_ids if line.state == "skipped"}
            self.assertEqual(set(reasons), set(self.refused))
            for partner_id, reason in reasons.items():
                self.assertIn(self.refused[partner_id], reason)
                self.assertNotIn("Bulk Bodil", reason, "a reason never names the contact")
            enrolled = self.members(env, self.contact_ids)
            self.assertEqual(len(enrolled), COUNT)
            self.assertEqual(len(set(enrolled.values())), COUNT, "one card code each")
            identities = env["customer.identity"].search([("partner_id", "in", self.contact_ids)])
            self.assertEqual(len(identities), COUNT)
            # The values of contacts from each batch now live in the identity only.
            values = [value for index in (0, 600, 1999) for value in person(index).values() if value != "Bergen"]
            places = stored_places(env, values)
            self.assertEqual(set(places), set(values), "every value is still held, in the vault")
            for value, columns in places.items():
                self.assertTrue(all(c.startswith("customer_identity.") for c in columns), (value, columns))
            self.assertEqual(
                identities.filtered(lambda i: i.partner_id.id == self.contact_ids[600]).email, person(600)["email"]
            )
            # A second run over the same contacts does nothing: all are members already.
            rerun = self.start(env)
            env["customer.enrollment.job"]._cron_run_enrollment_jobs(batch_size=BATCH)
            rerun.invalidate_recordset()
            self.assertEqual((rerun.enrolled_count, rerun.skipped_count), (0, COUNT + 6))
            self.assertEqual(self.members(env, self.contact_ids), enrolled, "nobody enrolled twice")
            cr.rollback()

    def test_killed_run_resumes_without_double_work(self):
        cr, env = self.connect()
        with cr:
            job = self.start(env)
            cr.commit()
        blocker_cr, _blocker = self.connect()
        runner_cr, runner = self.connect()
        with blocker_cr, runner_cr:
            # A till holds a contact of the third batch: the run dies waiting for it after two batches.
            blocker_cr.execute("SELECT id FROM res_partner WHERE id = %s FOR UPDATE", [self.contact_ids[1200]])
            runner_cr.execute("SET lock_timeout = '300ms'")
            # The scheduled action logs the failed run and goes on with the next (none here).
            with (
                mute_logger("odoo.sql_db"),
                self.assertLogs("odoo.addons.customer_registry.models.customer_enrollment_job", "ERROR") as logged,
            ):
                runner["customer.enrollment.job"]._cron_run_enrollment_jobs(batch_size=BATCH)
            self.assertIs(logged.records[0].exc_info[0], psycopg2.errors.LockNotAvailable)
            runner_cr.rollback()
            blocker_cr.rollback()
            job = runner["customer.enrollment.job"].browse(job.id)
            self.assertEqual(job.state, "running")
            self.assertEqual(job.total_count - job.pending_count, 2 * BATCH, "two batches were committed")
            before = self.members(runner, self.contact_ids)
            self.assertEqual(len(before), 2 * BATCH)
            identities_before = runner["customer.identity"].search([("partner_id", "in", list(before))])
            runner["customer.enrollment.job"]._cron_run_enrollment_jobs(batch_size=BATCH)
            job.invalidate_recordset()
            self.assertEqual((job.state, job.enrolled_count, job.skipped_count), ("done", COUNT, 6))
            after = self.members(runner, self.contact_ids)
            self.assertEqual(len(after), COUNT)
            self.assertEqual({key: after[key] for key in before}, before, "the first batches were not redone")
            identities = runner["customer.identity"].search([("partner_id", "in", self.contact_ids)])
            self.assertEqual(len(identities), COUNT, "one identity each")
            self.assertLessEqual(identities_before, identities)
            runner_cr.rollback()


@tagged("post_install", "-at_install")
class TestEnrollmentWizard(TransactionCase):
    def test_a_small_selection_is_enrolled_at_once_by_personal_data_users_only(self):
        pii_user = new_test_user(
            self.env,
            "cr_enroll_pii",
            groups="base.group_user,base.group_partner_manager,customer_registry.group_registry_pii",
        )
        cashier = new_test_user(
            self.env,
            "cr_enroll_cashier",
            groups="base.group_user,base.group_partner_manager,point_of_sale.group_pos_user",
        )
        contacts = self.env["res.partner"].create(
            [{"name": "Selma Selected", "email": "selma@example.com"}, {"name": "Firma AS", "is_company": True}]
        )
        context = {"active_model": "res.partner", "active_ids": contacts.ids}
        with self.assertRaises(AccessError):
            self.env["customer.enrollment.wizard"].with_user(cashier).with_context(**context).create({})
        wizard = self.env["customer.enrollment.wizard"].with_user(pii_user).with_context(**context).create({})
        self.assertEqual(wizard.candidate_count, 2)
        job = self.env["customer.enrollment.job"].browse(wizard.action_enroll()["res_id"])
        self.assertRecordValues(
            job, [{"state": "done", "enrolled_count": 1, "skipped_count": 1, "user_id": pii_user.id}]
        )
        self.assertTrue(contacts[0].is_registry_member)
        self.assertEqual(contacts[0].name, contacts[0].pseudonym)
        self.assertEqual(contacts[0].sudo().registry_identity_ids.email, "selma@example.com")
        self.assertFalse(contacts[1].is_registry_member)


@tagged("post_install", "-at_install")
class TestEnrollmentGreetingNameAndBadContacts(RegistryCase):
    """A greeting name typed before enrollment never makes the legal name the label; one bad contact
    does not stop a run."""

    def test_bulk_enrollment_greeting_name_holding_the_legal_name(self):
        contact = self.env["res.partner"].create(
            {"name": "Ingrid Qrevgreet", "registry_greeting_name": "Ingrid Qrevgreet"}
        )
        job = self.env["customer.enrollment.job"].with_user(self.pii_user).sudo()._start(contact.ids)
        job._run()
        self.env.invalidate_all()
        self.assertTrue(contact.is_registry_member, job.line_ids.mapped("reason"))
        self.assertEqual(contact.name, contact.pseudonym, "the label every cashier sees is the card code")
        self.assertFalse(contact.registry_greeting_name)
        self.assertEqual(contact.registry_identity_ids.legal_name, "Ingrid Qrevgreet")

    def test_single_enrollment_greeting_name_holding_the_legal_name(self):
        contact = self.env["res.partner"].create(
            {"name": "Ivar Qrevgreet", "email": "ivar@example.com", "registry_greeting_name": "Ivar Qrevgreet"}
        )
        contact.with_user(self.pii_user).write({"is_registry_member": True})
        self.env.invalidate_all()
        self.assertNotIn("Qrevgreet", contact.name, "the member's label (seen by every cashier) is its legal name")
        kept = self.env["res.partner"].create({"name": "Ivar Qrevkept", "registry_greeting_name": "Ivar"})
        kept.with_user(self.pii_user).write({"is_registry_member": True})
        self.assertEqual(kept.name, "Ivar", "a greeting name that gives nothing away stays")

    def test_bad_postal_area_does_not_poison_the_run(self):
        contact = self.env["res.partner"].create({"name": "Olav Qrevzip", "registry_postal_area": "ABC"})
        self.assertFalse(contact.registry_postal_area, "a derived field given to a non-member is not kept")
        # A contact holding one from before (the ORM no longer writes it): the database guard refuses it
        # at enrollment unless the enrollment clears it.
        self.env.cr.execute("UPDATE res_partner SET registry_postal_area = 'ABC' WHERE id = %s", [contact.id])
        contact.invalidate_recordset(["registry_postal_area"])
        good = self.env["res.partner"].create({"name": "Good Qrevzip"})
        job = self.env["customer.enrollment.job"].with_user(self.pii_user).sudo()._start([contact.id, good.id])
        job._run()
        self.assertEqual(job.line_ids.mapped("state"), ["enrolled", "enrolled"], job.line_ids.mapped("reason"))
        self.assertFalse(contact.registry_postal_area)

    def test_a_contact_the_database_refuses_is_skipped_and_the_run_goes_on(self):
        bad, good = self.env["res.partner"].create([{"name": "Bad Qrevdb"}, {"name": "Good Qrevdb"}])
        # A state only the database's guards refuse (written by SQL, as another module could): marked
        # erased yet holding a greeting name, which an erased member's profile never holds.
        self.env.cr.execute(
            "UPDATE res_partner SET registry_greeting_name = 'Olga', registry_erased_at = now() WHERE id = %s",
            [bad.id],
        )
        bad.invalidate_recordset()
        job = self.env["customer.enrollment.job"].with_user(self.pii_user).sudo()._start([bad.id, good.id])
        with mute_logger("odoo.sql_db", "odoo.addons.customer_registry.models.customer_enrollment_job"):
            job._run()
        self.assertEqual(job.line_ids.mapped("state"), ["skipped", "enrolled"])
        self.assertNotIn("Qrevdb", job.line_ids[0].reason)
        self.assertTrue(good.is_registry_member)
