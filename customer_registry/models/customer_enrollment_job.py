import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Runs this small are done in the wizard's own request; larger ones go to the scheduled action.
BATCH_SIZE = 200

PENDING, ENROLLED, SKIPPED = "pending", "enrolled", "skipped"


class CustomerEnrollmentJob(models.Model):
    """Existing contacts brought into the register, batch by batch (GDPR-safe bulk enrollment).

    Each contact of the run has a line: pending until its batch is done, then
    enrolled or skipped with the reason.  A batch is committed with its lines,
    so a killed run resumes from the pending lines and never enrolls anyone
    twice; a contact already a member is skipped.
    """

    _name = "customer.enrollment.job"
    _description = "Member Enrollment Run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    user_id = fields.Many2one(
        "res.users", string="Started By", required=True, readonly=True, default=lambda self: self.env.user
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company, index=True
    )
    state = fields.Selection(
        [("queued", "Queued"), ("running", "Running"), ("done", "Done")],
        required=True,
        default="queued",
        readonly=True,
        index=True,
    )
    line_ids = fields.One2many("customer.enrollment.job.line", "job_id", string="Contacts", readonly=True)
    total_count = fields.Integer(string="Total", compute="_compute_counts")
    pending_count = fields.Integer(string="Still to Do", compute="_compute_counts")
    enrolled_count = fields.Integer(string="Enrolled", compute="_compute_counts")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_counts")
    progress = fields.Float(string="Progress (%)", compute="_compute_counts")

    def _compute_name(self):
        for job in self:
            job.name = self.env._("Enrollment #%s", job.id)

    def _compute_counts(self):
        counts = {}
        if self.ids:
            self.env["customer.enrollment.job.line"].flush_model(["job_id", "state"])
            self.env.cr.execute(
                "SELECT job_id, state, count(*) FROM customer_enrollment_job_line WHERE job_id = ANY(%s) "
                "GROUP BY job_id, state",
                [self.ids],
            )
            for job_id, state, count in self.env.cr.fetchall():
                counts[job_id, state] = count
        for job in self:
            by_state = {state: counts.get((job.id, state), 0) for state in (PENDING, ENROLLED, SKIPPED)}
            job.pending_count = by_state[PENDING]
            job.enrolled_count = by_state[ENROLLED]
            job.skipped_count = by_state[SKIPPED]
            job.total_count = sum(by_state.values())
            done = job.enrolled_count + job.skipped_count
            job.progress = 100.0 * done / job.total_count if job.total_count else 100.0

    @api.model
    def _start(self, partner_ids):
        """A run over these contacts (ids, in this order), with one pending line each."""
        job = self.create({})
        self.env.cr.execute(
            """INSERT INTO customer_enrollment_job_line (job_id, partner_id, state, create_uid, create_date,
                                                        write_uid, write_date)
               SELECT %(job)s, partner_id, 'pending', %(uid)s, now() at time zone 'UTC', %(uid)s,
                      now() at time zone 'UTC'
                 FROM unnest(%(ids)s::int[]) WITH ORDINALITY AS given(partner_id, position)
                ORDER BY position""",
            {"job": job.id, "uid": self.env.uid, "ids": list(dict.fromkeys(partner_ids))},
        )
        return job

    def _run_batch(self, batch_size=BATCH_SIZE):
        """Enroll the next pending contacts of this run; the number of contacts done (0: finished)."""
        self.ensure_one()
        Line = self.env["customer.enrollment.job.line"].sudo()
        lines = Line.search([("job_id", "=", self.id), ("state", "=", PENDING)], order="id", limit=batch_size)
        if not lines:
            return 0
        # The run acts as the user who started it, in the company they started it in: the enrollment
        # checks that this user may write these contacts, and a member belongs to that company.
        partners = (
            lines.partner_id.with_user(self.user_id)
            .with_company(self.company_id)
            .with_context(active_test=False, tracking_disable=True)
        )
        reasons = {}
        for partner in partners:
            if partner.is_registry_member:
                reasons[partner.id] = self.env._("Already a member.")
            elif refusal := partner._registry_enroll_refusal():
                reasons[partner.id] = refusal % self.env._("This contact")
        to_enroll = partners.filtered(lambda partner: partner.id not in reasons)
        try:
            with self.env.cr.savepoint():
                to_enroll._enroll()
        except (UserError, ValidationError, AccessError, psycopg2.IntegrityError, psycopg2.DataError):
            # One contact spoils the batch: enroll one by one to give each its own reason.
            for partner in to_enroll:
                try:
                    with self.env.cr.savepoint():
                        partner._enroll()
                except AccessError:
                    reasons[partner.id] = self.env._("You may not edit this contact.")
                except (UserError, ValidationError) as error:
                    reasons[partner.id] = error.args[0]
                except (psycopg2.IntegrityError, psycopg2.DataError) as error:
                    # A value the database's guards refuse: the contact is skipped, the run goes on (a
                    # run stopped here would stop the scheduled action on this contact for good). The
                    # database's message is logged, not shown. A lock or serialization failure is not
                    # the contact's fault: it stops the batch, which the next call does again.
                    _logger.warning(
                        "Enrollment #%s: contact %s refused by the database: %s", self.id, partner.id, error
                    )
                    reasons[partner.id] = self.env._(
                        "The database refused this contact's data: correct the contact, then enroll it again."
                    )
        self.env.cr.execute(
            SQL(
                """UPDATE customer_enrollment_job_line line
                      SET state = CASE WHEN reason.text IS NULL THEN 'enrolled' ELSE 'skipped' END,
                          reason = reason.text, write_date = now() at time zone 'UTC'
                     FROM customer_enrollment_job_line this
                     LEFT JOIN (SELECT * FROM unnest(%s::int[], %s::text[]) AS r(partner_id, text)) reason
                            ON reason.partner_id = this.partner_id
                    WHERE line.id = this.id AND line.id = ANY(%s)""",
                list(reasons),
                list(reasons.values()),
                lines.ids,
            )
        )
        Line.invalidate_model(["state", "reason"])
        return len(lines)

    def _run(self, batch_size=BATCH_SIZE, commit=False):
        """Run the batches until nothing is pending; with `commit`, commit and report progress per batch."""
        for job in self:
            job.state = "running"
            while done := job._run_batch(batch_size):
                _logger.info(
                    "Enrollment #%s: %d contacts done, %d still to do",
                    job.id,
                    job.total_count - job.pending_count,
                    job.pending_count,
                )
                if commit:
                    self.env["ir.cron"]._commit_progress(done, remaining=job.pending_count)
                job.invalidate_recordset()
            job.state = "done"
            if commit:
                self.env["ir.cron"]._commit_progress()

    @api.model
    def _cron_run_enrollment_jobs(self, batch_size=BATCH_SIZE):
        """The scheduled action: every unfinished run, committed batch by batch (killed, it resumes)."""
        for job in self.sudo().search([("state", "!=", "done")], order="id"):
            # Each run on its own: one that fails is logged and left to the next call, the later runs go on.
            try:
                job._run(batch_size, commit=True)
            except Exception:
                _logger.exception("Enrollment #%s failed; it resumes from its pending contacts next time", job.id)
                self.env.cr.rollback()
                self.env.invalidate_all()

    def action_refresh(self):
        return True


class CustomerEnrollmentJobLine(models.Model):
    _name = "customer.enrollment.job.line"
    _description = "Contact of a Member Enrollment Run"
    _order = "id"

    job_id = fields.Many2one("customer.enrollment.job", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="cascade", index=True)
    state = fields.Selection(
        [(PENDING, "To Do"), (ENROLLED, "Enrolled"), (SKIPPED, "Skipped")], required=True, default=PENDING
    )
    # Never names the contact (the line links to it): a later erasure leaves nothing of the person here.
    reason = fields.Char(string="Why Skipped")
