"""PDF export: only what the reader may see, watermarked on every page, logged as an export."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import stable_id
from portal.localtime import local_time
from tests.harness import Running
from tests.minutes.helpers import MINUTES, logged_in, save, section


def test_the_export_holds_only_readable_sections_and_the_watermark(running: Running) -> None:
    writer = logged_in(running, "notulist")
    long_text = "\n\n".join(f"Alinea {i}: rekenen en taal." for i in range(80))  # > 1 page
    save(writer, section("Schoolvoortgang", f"Leest op niveau E5.\n\n{long_text}"),
         section("Gezondheid", "GEHEIM-diagnose-ADHD", categories=("health",)))
    chair = logged_in(running, "ib")
    response = chair.get(f"{MINUTES}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in response.headers["cache-control"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > 1
    stamp = local_time(running.clock.now)
    for page in reader.pages:
        text = page.extract_text()
        assert "Ilse Bakker" in text and stamp in text, "every page carries the watermark"
    everything = "\n".join(p.extract_text() for p in reader.pages)
    assert "Leest op niveau E5." in everything
    assert "GEHEIM" not in everything and "Gezondheid" not in everything

    with running.portal.sessions() as db:
        export = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "minutes.export",
            AccessRecord.user_id == stable_id("person", "ib"))).one()
        sections = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "minutes.export.section",
            AccessRecord.user_id == stable_id("person", "ib")).order_by(AccessRecord.seq)).all()
    assert export.action_code == "R" and export.outcome == "allowed"
    assert sections == ["allowed", "denied"]
    assert logged_in(running, "buitenstaander").get(f"{MINUTES}/pdf").status_code == 404


def test_the_export_renders_bold_markers_and_names_the_status_in_dutch(
        running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Schoolvoortgang", "**Afspraak:** mentor belt de ouders."))
    response = logged_in(running, "ib").get(f"{MINUTES}/pdf")
    assert response.status_code == 200
    everything = "\n".join(p.extract_text() for p in PdfReader(
        io.BytesIO(response.content)).pages)
    assert "Afspraak: mentor belt de ouders." in everything
    assert "**" not in everything
    for code in ("(draft)", "(submitted)", "(approved)"):
        assert code not in everything
    assert "(concept)" in everything or "(vastgesteld)" in everything \
        or "(ter goedkeuring)" in everything


def test_the_export_renders_lists_escapes_markup_and_counts_in_dutch(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Afspraken", "Wat er is afgesproken:\n\n- **mentor** belt de ouders\n"
                                      "- <b>geen</b> opmaak uit de tekst\n\n1. eerst\n2. dan",
                         kind="agreements", nature="opinion"),
         section("Gezondheid", "GEHEIM", categories=("health",)))
    response = logged_in(running, "ib").get(f"{MINUTES}/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "**" not in text and "mentor belt de ouders" in text
    assert "<b>geen</b> opmaak" in text, "markup in the text is shown as text"
    assert "- mentor" not in text, "a list item is a bullet, not a dash"
    assert "1. eerst" in text and "2. dan" in text
    # The section's kind, nature and categories in words; the hidden one counted in Dutch.
    assert "Afspraken; Professionele mening; Schoolvorderingen" in text
    assert "school_progress" not in text and "opinion" not in text
    assert "1 onderdeel valt buiten uw toestemming en is weggelaten." in text
    assert "Verslag van het MDO van" in text and "pagina 1" in text
