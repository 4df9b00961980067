"""Every text the portal shows is translatable and has a Dutch translation."""

from __future__ import annotations

import re
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


# Placeholders that hold a count. In a sentence ("3 cases", "2 days") the noun
# agrees with the number, so the message must be a plural one (ngettext); only
# the label form "Not shown: %(num)s" needs no agreement.
COUNT_PLACEHOLDER = re.compile(r"(?<!: )%\((num|count|total|days|hidden|more|missing)\)[sd]")


def sentences_counting_without_plural(ids: set[str | tuple[str, str]]) -> list[str]:
    return sorted(m for m in ids if isinstance(m, str) and COUNT_PLACEHOLDER.search(m))


def test_a_count_in_a_sentence_goes_through_ngettext() -> None:
    assert sentences_counting_without_plural(extracted_ids()) == [], "use ngettext"


def test_the_count_check_catches_a_singular_sentence() -> None:
    caught = sentences_counting_without_plural({"Page 1 (%(total)s cases).", "Hidden: %(num)s",
                                                ("%(num)d case", "%(num)d cases")})
    assert caught == ["Page 1 (%(total)s cases)."]


def test_plural_entries_fill_both_dutch_forms() -> None:
    catalog = dutch_catalog()
    assert catalog.num_plurals == 2
    for message in catalog:
        if message.id and message.pluralizable:
            assert all(form.strip() for form in message.string), message.id


def forbidden_words() -> list[str]:
    """The glossary's "Not" column (docs/glossary.md): words the Dutch interface avoids."""
    words: list[str] = []
    for line in (ROOT / "docs/glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("", "In code (English)") \
                and not set(cells[0]) <= set("-"):
            words += [word.strip() for word in cells[2].split(",") if word.strip()]
    return words


def _forms(word: str) -> list[str]:
    """The word and its Dutch plurals: vergadering(en), notulen(s), zaak -> zaken."""
    forms = [word, word + "en", word + "s"]
    if re.search(r"([aeou])\1[^aeiou]$", word):
        forms.append(word[:-2] + word[-1] + "en")
    return forms


def glossary_breaches(catalog: Catalog, words: list[str]) -> list[tuple[str, str]]:
    """(word, msgstr) for each Dutch text using a word the glossary rules out (or its plural)."""
    patterns = {word: re.compile(r"\b(" + "|".join(map(re.escape, _forms(word))) + r")\b",
                                 re.IGNORECASE) for word in words}
    found = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            found += [(word, form) for word, pattern in patterns.items()
                      if form and pattern.search(form)]
    return found


def test_the_glossary_lists_words_to_avoid() -> None:
    words = forbidden_words()
    assert {"notulen", "toegangslog", "zaak", "vergadering"} <= set(words)


def test_the_dutch_catalog_follows_the_glossary() -> None:
    assert glossary_breaches(dutch_catalog(), forbidden_words()) == []


def test_the_glossary_check_catches_a_forbidden_word() -> None:
    catalog = Catalog(locale="nl")
    catalog.add("Minutes", "De notulen van de vergadering")
    catalog.add("Cases", "Zaken")
    catalog.add("Agenda", "Agendapunt")  # a longer word merely containing one is fine
    found = {word for word, _text in glossary_breaches(catalog, ["notulen", "zaak", "vergadering",
                                                                  "agenda"])}
    assert found == {"notulen", "zaak", "vergadering"}
