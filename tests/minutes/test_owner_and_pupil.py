"""The meeting's minute-taker writes whatever their case role; a pupil of 16 reads what is
shared with them, like a parent."""

from __future__ import annotations

from datetime import timedelta

from portal.demo import stable_id
from tests.harness import Running
from tests.minutes.helpers import logged_in, save, section, submit_and_approve

NOOR_CASE = stable_id("case", "noor-mdo")


def schedule_noor_meeting(running: Running, minute_taker: str) -> str:
    chair = logged_in(running, "ib")
    chair.page(f"/cases/{NOOR_CASE}/meetings/new")
    day = (running.clock.now + timedelta(days=2)).date().isoformat()
    response = chair.post(f"/cases/{NOOR_CASE}/meetings", data={
        "csrf_token": chair.csrf, "date": day, "time": "10:00", "duration": "60",
        "place": "Kamer 3", "agenda": "Verzuim", "category": "school_progress",
        "minute_taker_id": stable_id("person", minute_taker),
        "invitee": [stable_id("person", "smw")], "invite_family": "on"})
    assert response.status_code == 200, response.text
    return response.url.path.rsplit("/", 1)[1]


def test_the_meetings_minute_taker_writes_and_the_pupil_reads(running: Running) -> None:
    meeting = schedule_noor_meeting(running, "smw")
    path = f"/meetings/{meeting}/minutes"
    # Ilse chairs the case but does not take these minutes; Sanne (a participant) does.
    chair = logged_in(running, "ib")
    assert chair.get(f"{path}/edit").status_code == 403
    worker = logged_in(running, "smw")
    written = save(worker, section("Aanwezigheid", "Noor was deze maand elke dag op school.",
                                   shared=True),
                   # Not shared; a kind the approving chair may read (she approves
                   # only what she can read).
                   section("Thuis", "Spanningen thuis besproken.",
                           categories=("social_emotional",)),
                   meeting_path=path)
    assert written.status_code == 200
    assert "Noor was deze maand elke dag op school." in written.text
    submit_and_approve(running, worker, 1, meeting_path=path)

    noor = logged_in(running, "leerling16").page(f"/family/cases/{NOOR_CASE}")
    assert noor.status_code == 200
    assert "Noor was deze maand elke dag op school." in noor.text
    assert "Spanningen thuis" not in noor.text
    # Her foster parent has no standing to see anything of it.
    foster = logged_in(running, "pleegouder").get(f"/family/cases/{NOOR_CASE}")
    assert "elke dag op school" not in foster.text
