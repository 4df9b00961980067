"""After giving consent a parent sees who else still must, never what the others chose."""

from __future__ import annotations

from tests.consent._portal import org
from tests.consent.test_portal import SAM_CASE, give, logged_in
from tests.harness import Running

BAKEN = f"org:{org('het-baken')}"
CATEGORY_NAMES = ("Schoolvorderingen", "Gedrag", "Sociaal-emotioneel", "Gezondheid",
                  "Gezinssituatie", "Overig")


def _still(text: str) -> str:
    assert 'id="still-to-consent"' in text, "the page says who still has to consent"
    return text.split('id="still-to-consent"', 1)[1].split("</p>", 1)[0]


def test_the_mother_sees_that_the_father_still_has_to_consent(running: Running) -> None:
    mother = logged_in(running, "ouder1")
    given = give(mother, SAM_CASE, ["health"], [BAKEN])
    assert given.status_code in (200, 303)
    still = _still(mother.page(f"/family/cases/{SAM_CASE}").text)
    assert "Peter Mulder" in still
    assert "Petra Mulder" not in still, "not herself"
    assert not any(name in still for name in CATEGORY_NAMES), "nothing of what others chose"


def test_the_chair_sees_the_banner_with_the_missing_categories(running: Running) -> None:
    chair = logged_in(running, "ib")
    page = chair.page(f"/cases/{SAM_CASE}").text
    banner = page.split('id="consent-banner"', 1)[1].split("</section>", 1)[0]
    assert "Petra Mulder" in banner and "Gezondheid" in banner
    assert f'href="/cases/{SAM_CASE}/consent"' in banner
