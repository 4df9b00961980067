"""The board's retention period confirmed in the browser; the FG sees what ends and holds it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import LoginPage, StartPage
from portal.retention.rules import add_months
from tests.harness import Running
from tests.retention.helpers import SAM_CASE, close

if TYPE_CHECKING:
    from e2e.conftest import Browse

BAKEN = "Scholengemeenschap Het Baken"


def test_board_confirms_and_fg_places_a_hold(browse: Browse, portal: Running) -> None:
    admin = browse()
    LoginPage(admin).open().choose_demo_login().persona("Anton Kramer").click()
    StartPage(admin).wait()
    admin.get_by_role("link", name="Bewaartermijnen per organisatie").click()
    expect(admin.get_by_role("heading", level=1,
                             name="Bewaartermijnen per organisatie")).to_be_visible()
    school = admin.get_by_role("form", name=BAKEN)
    expect(school.get_by_text("Niet bevestigd: van deze organisatie wordt niets verwijderd."))\
        .to_be_visible()
    expect(school.get_by_label("Bewaartermijn (maanden)")).to_have_value("24")
    school.get_by_role("button", name=f"Bevestigen {BAKEN}").click()
    expect(admin.get_by_role("alert")).to_contain_text(
        "Bevestig dat het bestuur deze bewaartermijn heeft vastgesteld.")
    school = admin.get_by_role("form", name=BAKEN)
    school.get_by_label("Te rekenen vanaf").select_option(label="na het sluiten van de casus")
    school.get_by_label(f"Het bestuur van {BAKEN} heeft deze bewaartermijn vastgesteld").check()
    school.get_by_role("button", name=f"Bevestigen {BAKEN}").click()
    expect(admin.get_by_role("status")).to_have_text("De bewaartermijn is bevestigd.")
    expect(admin.get_by_role("form", name=BAKEN).get_by_text("Bevestigd op")).to_be_visible()

    with portal.portal.sessions() as db:  # closed long enough ago to end in ten days
        close(db, SAM_CASE, add_months(portal.clock.now + timedelta(days=10), -24))
        db.commit()

    fg = browse()
    LoginPage(fg).open().choose_demo_login().persona("Fenna Gerritsen").click()
    StartPage(fg).wait()
    fg.get_by_role("link", name="Bewaartermijnen: casussen waarvan de bewaartermijn binnen "
                                "30 dagen afloopt").click()
    table = fg.get_by_role("table", name="Loopt binnen 30 dagen af")
    row = table.get_by_role("row").filter(has_text=SAM_CASE)
    expect(row).to_contain_text("24 maanden na het sluiten van de casus")
    row.get_by_label("Reden").select_option(label="Lopend verzoek van een ouder of jongere")
    row.get_by_role("button", name=f"Bewaarplicht instellen {SAM_CASE}").click()
    expect(fg.get_by_role("status")).to_have_text("De bewaarplicht geldt.")
    expect(fg.get_by_role("table", name="Loopt binnen 30 dagen af")
           .get_by_role("row").filter(has_text=SAM_CASE)).to_contain_text("Vastgehouden")
    expect(fg.get_by_role("main").get_by_text("Lopend verzoek van een ouder of jongere, sinds"))\
        .to_be_visible()
