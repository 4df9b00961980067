"""Every text the portal shows is translatable and has a Dutch translation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.harness import Running

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "LoginRejected": (2,)}
METHODS = [("portal/**.py", "python"), ("auth/**.py", "python"),
           ("templates/**.html", "jinja2")]


def extracted_ids() -> set[str | tuple[str, str]]:
    """Every message id in the code; a plural message as (singular, plural)."""
    ids: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        if isinstance(message, str):
            ids.add(message)
        elif len(message) >= 2 and message[1]:
            ids.add((message[0], message[1]))
        else:
            ids.add(message[0])
    return ids


def dutch_catalog() -> Catalog:
    with open(ROOT / "portal/translations/nl/LC_MESSAGES/messages.po", "rb") as handle:
        return read_po(handle)


def test_every_message_has_a_dutch_translation() -> None:
    catalog = dutch_catalog()
    # A plural entry counts only when every Dutch form is filled in.
    translated = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog
                  if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(map(str, extracted_ids() - translated))
    assert missing == [], "translate these (append to messages.po)"


def test_plural_messages_have_every_dutch_form() -> None:
    catalog = dutch_catalog()
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals, "the portal counts things: some messages must be plural"
    for message in plurals:
        forms = message.string
        assert isinstance(forms, tuple) and len(forms) == catalog.num_plurals, message.id
        assert all("%(num)" in form for form in forms), message.id


def test_ngettext_picks_the_dutch_form_by_count() -> None:
    from portal.web import i18n
    i18n.set_language("nl")
    one = i18n.ngettext("%(num)d open case", "%(num)d open cases", 1) % {"num": 1}
    many = i18n.ngettext("%(num)d open case", "%(num)d open cases", 2) % {"num": 2}
    assert (one, many) == ("1 open casus", "2 open casussen")


def _key(value: str | Sequence[str] | None) -> str | tuple[str, ...] | None:
    """A plural entry's forms come as a tuple from the .po and a list from the .mo."""
    return value if value is None or isinstance(value, str) else tuple(value)


def test_the_compiled_catalog_is_current() -> None:
    base = ROOT / "portal/translations/nl/LC_MESSAGES"
    with open(base / "messages.po", "rb") as handle:
        source = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id}
    with open(base / "messages.mo", "rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run `make setup` (pybabel compile)"


def test_dutch_by_default_english_on_request(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    page = client.page("/login")
    assert '<html lang="nl">' in page.text and "Inloggen op het MDO-portaal" in page.text
    english = client.submit("/language", {"language": "en", "next": "/login"})
    assert '<html lang="en">' in english.text and "Log in to the MDO Portal" in english.text
