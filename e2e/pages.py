"""Page objects: find things as a screen reader user would, by role and name.

Texts are the Dutch ones (the portal's default language; the browser context
asks for nl-NL).
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

DEMO_LOGIN = "Demo-inlog (ontwikkeling)"


class LoginPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", level=1, name="Inloggen op het MDO-portaal")
        self.demo_login = page.get_by_role("link", name=DEMO_LOGIN)

    def open(self) -> LoginPage:
        self.page.goto("/login")
        expect(self.heading).to_be_visible()
        return self

    def choose_demo_login(self) -> PersonaPicker:
        self.demo_login.click()
        return PersonaPicker(self.page).wait()


class PersonaPicker:
    """The development IdP's page: one button per demo persona."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", level=1, name="Demo-inlog: kies een persona")

    def wait(self) -> PersonaPicker:
        expect(self.heading).to_be_visible()
        return self

    def persona(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def log_in_as(self, name: str) -> CaseListPage:
        self.persona(name).click()
        StartPage(self.page).wait()
        return CaseListPage(self.page).open()


def log_in(page: Page, persona: str) -> CaseListPage:
    """The whole OIDC login through the dev IdP; a professional lands on the start
    page, and goes on to Mijn casussen."""
    return LoginPage(page).open().choose_demo_login().log_in_as(persona)


class Header:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.menu = page.get_by_role("navigation", name="Hoofdmenu")
        self.skip_link = page.get_by_role("link", name="Naar de inhoud")

    def log_out_button(self) -> Locator:
        return self.menu.get_by_role("button", name="Uitloggen")

    def language_button(self, name: str) -> Locator:
        return self.menu.get_by_role("button", name=name, exact=True)


class StartPage:
    """Where every professional lands after login: what needs them today."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", level=1, name="Wat vraagt vandaag uw aandacht")
        self.cases_link = page.get_by_role("main").get_by_role("link", name="Mijn casussen")

    def wait(self) -> StartPage:
        expect(self.page).to_have_url(re.compile(r"/$"))
        expect(self.heading).to_be_visible()
        return self


class CaseListPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.header = Header(page)
        self.heading = page.get_by_role("heading", level=1, name="Mijn casussen")
        self.new_case_link = page.get_by_role("link", name="Nieuwe casus")
        self.table = page.get_by_role("table", name="Casussen waaraan u deelneemt")

    def wait(self) -> CaseListPage:
        expect(self.page).to_have_url(re.compile(r"/cases$"))
        expect(self.heading).to_be_visible()
        return self

    def open(self) -> CaseListPage:
        self.page.goto("/cases")
        return self.wait()

    def case_link(self, title: str) -> Locator:
        return self.table.get_by_role("link", name=title, exact=True)

    def start_new_case(self) -> NewCasePage:
        self.new_case_link.click()
        return NewCasePage(self.page).wait()

    def open_case(self, title: str) -> CasePage:
        self.case_link(title).click()
        return CasePage(self.page).wait(title)


class NewCasePage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", level=1, name="Een nieuwe MDO-casus starten")
        # exact: the anonymous checkbox's label also contains "kind".
        self.child = page.get_by_label("Kind", exact=True)
        self.anonymous = page.get_by_role("checkbox", name="Anoniem bespreken")
        self.title = page.get_by_label("Titel")
        self.purpose = page.get_by_label("Doel (doelbinding)")
        self.legal_basis = page.get_by_label("Grondslag")
        self.submit = page.get_by_role("button", name="Casus aanmaken")

    def wait(self) -> NewCasePage:
        expect(self.heading).to_be_visible()
        return self

    def create(self, *, child: str, title: str, purpose: str,
               legal_basis: str = "Toestemming") -> CasePage:
        self.child.select_option(label=child)
        self.title.fill(title)
        self.purpose.fill(purpose)
        self.legal_basis.select_option(label=legal_basis)
        self.submit.click()
        return CasePage(self.page).wait(title)


class CasePage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.header = Header(page)
        self.participants = page.get_by_role("region", name="Deelnemers")
        self.participant_list = self.participants.get_by_role("list")
        self.professional = self.participants.get_by_label("Professional")
        self.case_role = self.participants.get_by_label("Rol in deze casus")
        self.add_form = disclosure(self.participants, "Deelnemer toevoegen")
        self.add_button = self.participants.get_by_role("button", name="Deelnemer toevoegen")

    def wait(self, title: str) -> CasePage:
        expect(self.page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
        expect(self.heading(title)).to_be_visible()
        return self

    def heading(self, title: str) -> Locator:
        return self.page.get_by_role("heading", level=1, name=title, exact=True)

    def fact(self, term: str) -> Locator:
        """The <dd> after the <dt> with this text, in the case's facts list."""
        return self.page.locator("dl.facts dt", has_text=re.compile(f"^{re.escape(term)}$")) \
            .locator("xpath=following-sibling::dd[1]")

    def participant(self, name: str) -> Locator:
        return self.participant_list.get_by_role("listitem").filter(has_text=name)

    def candidate_value(self, name: str) -> str:
        """The option value for a professional (options read "name — organisation")."""
        option = self.professional.get_by_role("option", name=re.compile(f"^{re.escape(name)} "))
        value = option.get_attribute("value")
        assert value, f"{name} is not offered as a participant"
        return value

    def add_participant(self, name: str, role: str = "deelnemer", confirm: bool = True) -> None:
        """Add ``name``; when the portal shows the consequence first, confirm it (or not)."""
        open_disclosure(self.add_form)
        self.professional.select_option(self.candidate_value(name))
        self.case_role.select_option(label=role)
        self.add_button.click()
        if not confirm:
            return
        confirm_button = self.confirm_button
        expect(confirm_button.or_(self.participant(name)).first).to_be_visible()
        if confirm_button.is_visible():
            confirm_button.click()

    @property
    def confirm_button(self) -> Locator:
        """Confirms a change whose consequence the portal showed first."""
        return self.page.get_by_role("button", name="Wijziging bevestigen")


def disclosure(scope: Locator, summary: str) -> Locator:
    """The <details> in ``scope`` whose <summary> (a form behind a button) reads ``summary``."""
    return scope.locator("details").filter(
        has=scope.page.locator("summary").filter(has_text=re.compile(f"^{re.escape(summary)}$")))


def open_disclosure(details: Locator) -> Locator:
    """Opens ``details`` by clicking its summary, as a user would; returns it."""
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details


class ErrorPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.not_found = page.get_by_role("heading", level=1, name="Pagina niet gevonden")


# What the keyboard user has focused, and whether they can see it.
_FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  const text = el.tagName === "SELECT" ? (el.selectedOptions[0] || {}).text : el.innerText;
  return {
    element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""),
    name: (label || text || el.value || "").trim().slice(0, 60),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
    onScreen: rect.width > 0 && rect.height > 0 && rect.right > 0 && rect.bottom > 0
      && rect.left < window.innerWidth && rect.top < window.innerHeight,
  };
}"""


class KeyboardUser:
    """Moves only with the keyboard, and checks at every Tab stop that the
    focused element shows a focus indicator and is on screen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.trail: list[str] = []

    def focused(self) -> dict[str, object] | None:
        state: dict[str, object] | None = self.page.evaluate(_FOCUS_STATE)
        return state

    def assert_focus_visible(self) -> dict[str, object]:
        state = self.focused()
        assert state is not None, f"focus was lost (on <body>) after {self.trail}"
        assert state["outline"] or state["shadow"], f"no visible focus indicator: {state}"
        assert state["onScreen"], f"the focused element is off screen: {state}"
        return state

    def tab(self, key: str = "Tab") -> dict[str, object]:
        self.page.keyboard.press(key)
        state = self.assert_focus_visible()
        self.trail.append(f"{state['element']} {state['name']!r}")
        return state

    def is_focused(self, target: Locator) -> bool:
        return bool(target.evaluate("el => el === document.activeElement"))

    def tab_to(self, target: Locator, max_stops: int = 25) -> None:
        """Tab forward until ``target`` (found by role and name) has focus."""
        start = len(self.trail)
        for _ in range(max_stops):
            self.tab()
            if self.is_focused(target):
                return
        raise AssertionError(f"{target} not reached with Tab; stops: {self.trail[start:]}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
