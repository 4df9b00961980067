"""Where each meeting's minutes stand on the case page, from the stored rows (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.db import make_engine, session_factory
from portal.demo import stable_id
from portal.minutes.models import Minutes, MinutesDraft, MinutesStatus, MinutesVersion
from portal.minutes.states import MinutesState, minutes_states
from portal.vault.models import DataKey
from tests.minutes.helpers import CASE_ID, MEETING_ID

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(days=1), NOW + timedelta(days=1)
NO_MINUTES = "00000000-0000-4000-8000-000000000000"  # a meeting nobody wrote about


def test_the_latest_version_decides_and_an_autosave_alone_is_a_draft(database_url: str) -> None:
    engine = make_engine(database_url)
    writer = stable_id("person", "notulist")
    try:
        with session_factory(engine)() as db:
            key_id = db.scalars(select(DataKey.id).limit(1)).one()

            def states() -> dict[str, MinutesState]:
                return minutes_states(db, [(MEETING_ID, PAST), (NO_MINUTES, PAST),
                                           ("future-meeting", FUTURE)], NOW)

            assert states() == {MEETING_ID: MinutesState.TO_WRITE,
                                NO_MINUTES: MinutesState.TO_WRITE}
            minutes = Minutes(case_id=CASE_ID, meeting_id=MEETING_ID, created_at=NOW,
                              created_by=writer)
            db.add(minutes)
            db.flush()
            assert states()[MEETING_ID] is MinutesState.TO_WRITE
            db.add(MinutesDraft(minutes_id=minutes.id, author_id=writer, data_key_id=key_id,
                                content_ct=b"sealed", saved_at=NOW))
            db.flush()
            assert states()[MEETING_ID] is MinutesState.DRAFT
            expected = {MinutesStatus.DRAFT: MinutesState.DRAFT,
                        MinutesStatus.SUBMITTED: MinutesState.WAITING,
                        MinutesStatus.APPROVED: MinutesState.APPROVED}
            for version, status in enumerate(expected, start=1):
                db.add(MinutesVersion(minutes_id=minutes.id, version=version, status=status,
                                      data_key_id=key_id, created_at=NOW, created_by=writer))
                db.flush()
                assert states() == {MEETING_ID: expected[status],
                                    NO_MINUTES: MinutesState.TO_WRITE}
            # Minutes of a meeting still to come stand as they are.
            assert minutes_states(db, [(MEETING_ID, FUTURE)], NOW) == {
                MEETING_ID: MinutesState.APPROVED}
            assert minutes_states(db, [], NOW) == {}
            db.rollback()
    finally:
        engine.dispose()
