"""The look of the pages people see most, compared with reference images.

The start page and the demo case page (chair Ilse Bakker, persona "ib") and the
family case page (parent Petra Mulder) at 390 px (a phone) and 1,280 px, as
full-page screenshots, compared pixel by pixel with the PNGs in
``e2e/screenshots/``.

A change of look is deliberate: ``PORTAL_UPDATE_SCREENSHOTS=1 make test`` (or
``PORTAL_UPDATE_SCREENSHOTS=1 pytest e2e/test_screenshots.py``) rewrites the
references, and the copies of the start and case page in ``docs/screenshots/``;
review and commit them.

Deterministic by construction: the demo data and a clock frozen two days
before the demo meeting; every digit
run, month and weekday in the page's text is replaced by a fixed placeholder
before the picture is taken (dates, times, ages and countdowns move with the
day the suite runs); web fonts awaited, animations stopped, the caret hidden,
the pointer parked on the header's empty corner. The comparison ignores small
per-pixel differences (anti-aliasing) and allows a tiny share of differing
pixels, so that the references hold on another Debian machine with the same
Chromium and fonts (fonts-dejavu: ``fc-match system-ui`` is DejaVu Sans).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Page, ViewportSize, expect

from e2e.pages import LoginPage
from portal.demo import DEMO_CASE, stable_id
from portal.meetings.models import Meeting

if TYPE_CHECKING:
    from e2e.conftest import Browse
    from tests.harness import Running

UPDATE = os.environ.get("PORTAL_UPDATE_SCREENSHOTS") == "1"
ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "e2e" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
RESULTS = ROOT / "test-results" / "screenshots"  # git-ignored: what differed, to look at

SAM_CASE = stable_id("case", DEMO_CASE.key)
SIZES = {"phone": ViewportSize(width=390, height=844),
         "desktop": ViewportSize(width=1280, height=900)}
# name: (persona, path, copied to docs/screenshots/)
PAGES = {
    "start": ("Ilse Bakker", "/", True),
    "case": ("Ilse Bakker", f"/cases/{SAM_CASE}", True),
    "family-case": ("Petra Mulder", f"/family/cases/{SAM_CASE}", False),
}

# A channel difference up to this is anti-aliasing, not a change.
PIXEL_TOLERANCE = 24
# Share of pixels that may differ beyond that (a glyph or two, never a layout change).
MAX_DIFFERING = 0.001

_MONTHS = ("januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
           "december|january|february|march|may|june|july|august|october|"
           "jan|feb|mrt|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec")
_DAYS = ("maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|monday|tuesday|"
         "wednesday|thursday|friday|saturday|sunday|ma|di|wo|do|vr|za|zo|mon|tue|wed|thu|"
         "fri|sat|sun")
# Replaces what changes with the day the suite runs, in every text node and
# the value of every form field, by placeholders of fixed text.
NORMALISE = r"""([months, days]) => {
  const digits = /\d+/g;
  const month = new RegExp("\\b(" + months + ")\\b\\.?", "gi");
  const day = new RegExp("\\b(" + days + ")\\b\\.?", "gi");
  const fix = (text) => text.replace(digits, "00").replace(month, "mmm").replace(day, "ddd");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    node.textContent = fix(node.textContent);
  }
  for (const field of document.querySelectorAll("input:not([type=hidden]), textarea")) {
    if (field.value) field.value = fix(field.value);
  }
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
}"""


def freeze_clock(portal: Running) -> None:
    """Two days before the demo meeting, at a fixed time of day: the start page
    then always lists it under this week, whatever hour the suite runs."""
    with portal.portal.sessions() as db:
        meeting = db.get_one(Meeting, stable_id("meeting", DEMO_CASE.key))
        starts = meeting.starts_at
    starts = starts if starts.tzinfo else starts.replace(tzinfo=UTC)
    portal.clock.now = starts.astimezone(UTC) - timedelta(days=2, hours=3)


def log_in(page: Page, persona: str, base_url: str) -> None:
    LoginPage(page).open().choose_demo_login().persona(persona).click()
    page.wait_for_url(re.compile("^" + re.escape(base_url) + r"/(?!dev-idp|auth|login)"))


def settle(page: Page, path: str, size: ViewportSize) -> None:
    """Open ``path`` at ``size`` and wait until nothing is still loading."""
    page.set_viewport_size(size)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)  # the header's padding: hovers nothing


def shoot(page: Page) -> bytes:
    return page.screenshot(full_page=True, animations="disabled", caret="hide", type="png")


def differing_share(reference: Path, actual: Path, diff: Path) -> tuple[float, str]:
    """The share of pixels that differ by more than the tolerance (1.0 when the
    sizes differ), and a word on why; writes a difference image."""
    with Image.open(reference) as ref_image, Image.open(actual) as act_image:
        ref = ref_image.convert("RGB")
        act = act_image.convert("RGB")
    if ref.size != act.size:
        return 1.0, f"size {act.size} instead of {ref.size}"
    delta = ImageChops.difference(ref, act)
    worst = delta.convert("L").point(lambda value: 255 if value > PIXEL_TOLERANCE else 0)
    changed = worst.histogram()[255]
    worst.save(diff)
    total = ref.size[0] * ref.size[1]
    where = f" (in the box {worst.getbbox()})" if changed else ""
    return changed / total, f"{changed} of {total} pixels differ{where}"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_looks_like_its_reference(browse: Browse, portal: Running, name: str) -> None:
    persona, path, to_docs = PAGES[name]
    freeze_clock(portal)
    page = browse()
    log_in(page, persona, browse.base_url)
    failures: list[str] = []
    for size_name, size in SIZES.items():
        stem = f"{name}-{size_name}"
        settle(page, path, size)
        if UPDATE and to_docs:
            DOCS.mkdir(parents=True, exist_ok=True)
            (DOCS / f"{stem}.png").write_bytes(shoot(page))  # as people see it
        page.evaluate(NORMALISE, [_MONTHS, _DAYS])
        image = shoot(page)
        reference = REFERENCES / f"{stem}.png"
        if UPDATE:
            REFERENCES.mkdir(parents=True, exist_ok=True)
            reference.write_bytes(image)
            continue
        RESULTS.mkdir(parents=True, exist_ok=True)
        actual = RESULTS / f"{stem}-actual.png"
        actual.write_bytes(image)
        if not reference.exists():
            failures.append(f"{stem}: no reference image {reference.relative_to(ROOT)}")
            continue
        share, why = differing_share(reference, actual, RESULTS / f"{stem}-diff.png")
        if share > MAX_DIFFERING:
            failures.append(f"{stem}: {why} ({share:.3%}); see {actual.relative_to(ROOT)}")
    assert not failures, (
        "the page no longer looks like its reference:\n" + "\n".join(failures)
        + "\nA deliberate change? PORTAL_UPDATE_SCREENSHOTS=1 rewrites the references.")


def test_the_comparison_sees_a_change_and_forgives_anti_aliasing(tmp_path: Path) -> None:
    reference, actual, diff = tmp_path / "ref.png", tmp_path / "act.png", tmp_path / "diff.png"
    Image.new("RGB", (400, 300), (255, 255, 255)).save(reference)
    Image.new("RGB", (400, 300), (250, 245, 255)).save(actual)  # a shade: anti-aliasing
    assert differing_share(reference, actual, diff)[0] == 0.0
    changed = Image.new("RGB", (400, 300), (255, 255, 255))
    changed.paste((11, 92, 173), (10, 10, 30, 30))  # 400 pixels of a new blue box
    changed.save(actual)
    share, why = differing_share(reference, actual, diff)
    assert share > MAX_DIFFERING
    assert why == "400 of 120000 pixels differ (in the box (10, 10, 30, 30))"
    Image.new("RGB", (400, 301), (255, 255, 255)).save(actual)
    assert differing_share(reference, actual, diff) == (
        1.0, "size (400, 301) instead of (400, 300)")
