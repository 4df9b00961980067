"""The plain-language privacy page: public, Dutch and English, linked from every family page."""

from __future__ import annotations

import pytest

from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
SAM = stable_id("child", "sam")
FAMILY_PAGES = ["/family", f"/family/cases/{SAM_CASE}", "/child-access", f"/child-access/{SAM}"]


def test_the_privacy_page_is_public_and_dutch_first(running_sqlite: Running) -> None:
    anonymous = running_sqlite.client()
    page = anonymous.get("/privacy", follow_redirects=False)
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    for text in ("Wat wordt er vastgelegd?", "Waarom?", "Wie ziet het?", "Hoe lang?",
                 "Uw rechten, en hoe u ze gebruikt", "binnen 4 weken",
                 "minstens 5 jaar", "Autoriteit Persoonsgegevens"):
        assert text in page.text, text
    # Whom to ask: each organisation, with its FG (the supervisor where it has none).
    assert "Scholengemeenschap Het Baken" in page.text
    assert "fg@demo.mdo-portaal.test" in page.text
    assert "Beheer MDO-portaal" not in page.text
    assert "<script>" not in page.text.split("</head>")[1]


def test_the_privacy_page_in_english(running_sqlite: Running) -> None:
    english = running_sqlite.client()
    english.headers["Accept-Language"] = "en"
    page = english.get("/privacy")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    for text in ("What is recorded?", "Who sees it?", "How long?",
                 "Your rights, and how to use them", "within 4 weeks"):
        assert text in page.text, text


@pytest.mark.parametrize("path", FAMILY_PAGES, ids=["home", "case", "who-looked", "child-log"])
def test_every_family_page_links_to_it(running_sqlite: Running, path: str) -> None:
    parent = running_sqlite.client()
    parent.login("ouder1")
    page = parent.page(path)
    assert page.status_code == 200
    assert 'href="/privacy"' in page.text
    assert "Privacy: wat het portaal over uw kind bewaart, en uw rechten" in page.text
