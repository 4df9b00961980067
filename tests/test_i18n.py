"""Every text the portal shows is translatable and has a Dutch translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.harness import Running

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "LoginRejected": (2,)}
METHODS = [("portal/**.py", "python"), ("auth/**.py", "python"),
           ("templates/**.html", "jinja2")]


def extracted_ids() -> set[str]:
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_message_has_a_dutch_translation() -> None:
    with open(ROOT / "portal/translations/nl/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(extracted_ids() - translated)
    assert missing == [], "run `make messages` and translate these"


def test_the_compiled_catalog_is_current() -> None:
    base = ROOT / "portal/translations/nl/LC_MESSAGES"
    with open(base / "messages.po", "rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id}
    with open(base / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == source, "run `make setup` (pybabel compile)"


def test_dutch_by_default_english_on_request(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    page = client.page("/login")
    assert '<html lang="nl">' in page.text and "Inloggen op het MDO-portaal" in page.text
    english = client.submit("/language", {"language": "en", "next": "/login"})
    assert '<html lang="en">' in english.text and "Log in to the MDO Portal" in english.text
