"""A deployment's look by NL Design System tokens and a logo, without code changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import StartPortal
from portal.ops.checks import CHECKS, CheckContext, check_theme
from portal.settings import SettingsError
from portal.settings_env import load_settings
from portal.theme import LOGO_CSP, MAX_CSS_BYTES, load_theme
from tests.harness import Running

TOKENS = ".utrecht-theme { --utrecht-button-primary-action-background-color: #6a1b9a; }\n"
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<rect width="10" height="10" fill="#6a1b9a"/></svg>')
VENDOR_FILES = [("@utrecht/component-library-css/dist/index.css", "utrecht-components.css"),
                ("@utrecht/design-tokens/dist/index.css", "utrecht-tokens.css"),
                ("@utrecht/design-tokens/src/arrow-dropdown.svg", "utrecht-arrow-dropdown.svg")]
STYLESHEETS = ['<link rel="stylesheet" href="/static/vendor/utrecht-tokens.css">',
               '<link rel="stylesheet" href="/static/vendor/utrecht-components.css">',
               '<link rel="stylesheet" href="/static/portal.css">',
               '<link rel="stylesheet" href="/theme/tokens.css">']


@pytest.fixture
def theme_files(tmp_path: Path) -> tuple[Path, Path]:
    css = tmp_path / "bestuur.css"
    css.write_text(TOKENS, encoding="utf-8")
    logo = tmp_path / "bestuur.svg"
    logo.write_bytes(LOGO)
    return css, logo


def test_the_settings_name_the_theme_files() -> None:
    settings = load_settings({"PORTAL_THEME_CSS": "/etc/mdo/theme.css",
                              "PORTAL_LOGO": "/etc/mdo/logo.svg"})
    assert settings.theme_css == Path("/etc/mdo/theme.css")
    assert settings.logo == Path("/etc/mdo/logo.svg")
    plain = load_settings({})
    assert plain.theme_css is None and plain.logo is None


def test_a_theme_that_cannot_be_used_stops_the_start(tmp_path: Path,
                                                     theme_files: tuple[Path, Path]) -> None:
    css, logo = theme_files
    missing = load_settings({"PORTAL_THEME_CSS": str(tmp_path / "missing.css")})
    with pytest.raises(SettingsError, match="PORTAL_THEME_CSS: cannot read"):
        load_theme(missing)
    gif = tmp_path / "logo.gif"
    gif.write_bytes(b"GIF89a")
    with pytest.raises(SettingsError, match=r"PORTAL_LOGO: .* is not one of"):
        load_theme(load_settings({"PORTAL_LOGO": str(gif)}))
    huge = tmp_path / "huge.css"
    huge.write_bytes(b"/* */" * (MAX_CSS_BYTES // 4))
    with pytest.raises(SettingsError, match="larger than"):
        load_theme(load_settings({"PORTAL_THEME_CSS": str(huge)}))
    latin1 = tmp_path / "latin1.css"
    latin1.write_bytes("/* Zoë */".encode("latin-1"))
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_theme(load_settings({"PORTAL_THEME_CSS": str(latin1)}))
    theme = load_theme(load_settings({"PORTAL_THEME_CSS": str(css), "PORTAL_LOGO": str(logo)}))
    assert theme.css == TOKENS.encode() and theme.logo == LOGO
    assert theme.logo_type == "image/svg+xml"


def test_the_theme_is_served_after_the_design_system(
        sqlite_url: str, start_portal: StartPortal, theme_files: tuple[Path, Path]) -> None:
    css, logo = theme_files
    running = start_portal(sqlite_url, theme_css=css, logo=logo)
    client = running.client()
    for path in ("/login", "/does-not-exist"):
        page = client.get(path).text
        positions = [page.index(sheet) for sheet in STYLESHEETS]
        assert positions == sorted(positions), path
        assert '<img class="brand__logo" src="/theme/logo" alt="">' in page
    served = client.get("/theme/tokens.css")
    assert served.status_code == 200 and served.text == TOKENS
    assert served.headers["content-type"] == "text/css; charset=utf-8"
    image = client.get("/theme/logo")
    assert image.status_code == 200 and image.content == LOGO
    assert image.headers["content-type"] == "image/svg+xml"
    # An SVG opened on its own may not run or load anything.
    assert image.headers["content-security-policy"] == LOGO_CSP


def test_without_a_theme_the_design_system_tokens_apply(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    page = client.get("/login").text
    for sheet in STYLESHEETS[:3]:
        assert sheet in page
    assert "/theme/" not in page
    assert client.get("/theme/tokens.css").status_code == 404
    assert client.get("/theme/logo").status_code == 404
    assert '<body class="utrecht-theme utrecht-document utrecht-surface"' in page


def test_the_design_system_is_served_from_our_own_static_files(
        running_sqlite: Running) -> None:
    client = running_sqlite.client()
    components = client.get("/static/vendor/utrecht-components.css")
    assert components.status_code == 200 and ".utrecht-button--primary-action" in components.text
    tokens = client.get("/static/vendor/utrecht-tokens.css")
    assert tokens.status_code == 200 and ".utrecht-theme {" in tokens.text
    assert components.headers["content-type"].startswith("text/css")


def test_setup_and_image_copy_the_pinned_design_system() -> None:
    root = Path(__file__).resolve().parents[2]
    package = json.loads((root / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    for name in ("@utrecht/component-library-css", "@utrecht/design-tokens"):
        version = package["dependencies"][name]
        assert version[0].isdigit(), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    dockerfile = (root / "Dockerfile").read_text(encoding="utf-8")
    for source, target in VENDOR_FILES:
        assert f"cp node_modules/{source} $@" in makefile
        assert f"static/vendor/{target}:" in makefile and f"static/vendor/{target}" in \
            makefile.split("\nsetup:", 1)[1].split("\n", 1)[0]
        assert f"/src/node_modules/{source} ./static/vendor/{target}" in dockerfile


def test_portal_check_names_a_theme_it_cannot_use(tmp_path: Path,
                                                  theme_files: tuple[Path, Path]) -> None:
    css, logo = theme_files
    good = load_settings({"PORTAL_THEME_CSS": str(css), "PORTAL_LOGO": str(logo)})
    assert check_theme(CheckContext(good)) is None
    bad = load_settings({"PORTAL_LOGO": str(tmp_path / "missing.svg")})
    problem = check_theme(CheckContext(bad))
    assert problem is not None and problem.fatal
    assert problem.line().startswith("PORTAL_LOGO: cannot read")
    assert "theme" in dict(CHECKS)
