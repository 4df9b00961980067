"""The family reads the child's first name where the page already names the child."""

from __future__ import annotations

from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running
from tests.web.words import visible_text

CASE_ID = stable_id("case", DEMO_CASE.key)


def test_the_family_case_page_names_the_child_not_the_child_or_young_person(
        running_sqlite: Running) -> None:
    parent = running_sqlite.client()
    parent.login("ouder1")
    page = parent.page(f"/family/cases/{CASE_ID}")
    assert page.status_code == 200
    text = visible_text(page.text)
    # Sam is 13: the consent picture has a row for the child's own view.
    assert "Sam (mening telt mee, geen veto)" in text and "Sam is 13." in text
    assert "het kind / de jongere" not in text
