"""The background jobs every portal process runs, each exclusive across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.documents.blobs import make_blob_stores
from portal.documents.garbage import purge_blobs, sweep_temporary
from portal.documents.upload import sweep_pending
from portal.invitations.service import scrub_sent as scrub_sent_invitations
from portal.jobs.leases import Job, exclusive
from portal.meetings.notices import queue_reminders
from portal.notifications.birthdays import notify_birthdays
from portal.notifications.mail import queue_mail_copies
from portal.requests.reminders import queue_request_reminders
from portal.retention.job import run_retention
from portal.search.index import index_unindexed
from portal.settings import Settings
from portal.staff.lifecycle import queue_chair_notices
from portal.vault.service import Vault
from portal.web.session_store import SqlSessionStore

# How often the whole cluster runs each job (not each process).
REMINDERS_EVERY = timedelta(minutes=1)
PURGE_EVERY = timedelta(minutes=5)
SWEEP_EVERY = timedelta(minutes=5)
REQUEST_REMINDERS_EVERY = timedelta(hours=1)
BIRTHDAYS_EVERY = timedelta(days=1)
SEARCH_BACKFILL_EVERY = timedelta(hours=1)
RETENTION_EVERY = timedelta(days=1)


def background_jobs(settings: Settings, vault: Vault) -> list[Job]:
    """Run before each mail round (``MailDispatcher``), each in its own transaction."""
    public_url = settings.public_url
    policy = settings.sessions

    def reminders(db: Session, now: datetime) -> int:
        return queue_reminders(db, now, public_url)

    def purge(db: Session, now: datetime) -> int:
        return SqlSessionStore(db).purge_expired(now, policy.idle_timeout,
                                                 policy.absolute_timeout)

    def sweep(db: Session, now: datetime) -> int:
        return sweep_pending(db, vault, now)

    def chair_notices(db: Session, now: datetime) -> int:
        return queue_chair_notices(db, now, public_url)

    def request_reminders(db: Session, now: datetime) -> int:
        return queue_request_reminders(db, now, public_url)

    def notification_mail(db: Session, now: datetime) -> int:
        return queue_mail_copies(db, now, public_url)

    def birthdays(db: Session, now: datetime) -> int:
        return notify_birthdays(db, vault, now)

    def search_backfill(db: Session, now: datetime) -> int:
        return index_unindexed(db, vault, now)

    def retention(db: Session, now: datetime) -> int:
        return run_retention(db, vault, now)

    return [exclusive("action-item-reminders", reminders, REMINDERS_EVERY),
            exclusive("session-purge", purge, PURGE_EVERY),
            exclusive("upload-sweep", sweep, SWEEP_EVERY),
            # Every round, one process at a time: a chairless case is told at once,
            # and the lease row serialises the rounds so each notice goes out once.
            exclusive("chair-notices", chair_notices, timedelta(0)),
            # Idempotent and cheap: every process may blank delivered invitation mail.
            scrub_sent_invitations,
            # Daily; each case in its own transaction (portal.retention.job).
            exclusive("retention", retention, RETENTION_EVERY),
            # Hourly: a request's handler hears once when it is nearly due, once overdue.
            exclusive("request-reminders", request_reminders, REQUEST_REMINDERS_EVERY),
            # Every round, one process at a time: each notification is mailed once.
            exclusive("notification-mail", notification_mail, timedelta(0)),
            exclusive("consent-birthdays", birthdays, BIRTHDAYS_EVERY),
            exclusive("search-backfill", search_backfill, SEARCH_BACKFILL_EVERY),
            *blob_jobs(settings)]


def blob_jobs(settings: Settings) -> list[Job]:
    """Objects of erased or discarded versions go after the commit that destroyed their
    key (every round, so an erasure's objects go at once); dead writes' temp files hourly."""
    blobs = make_blob_stores(settings)

    def purge(db: Session, now: datetime) -> int:
        return purge_blobs(db, blobs, now)

    def temporary(db: Session, now: datetime) -> int:
        return sweep_temporary(blobs)

    return [exclusive("blob-purge", purge, timedelta(0)),
            exclusive("blob-temp-sweep", temporary, timedelta(hours=1))]
