"""The deployment's look, by NL Design System tokens, without code changes.

``PORTAL_THEME_CSS`` names a CSS file of design-token values (a school board's
colours: ``.utrecht-theme { --utrecht-button-primary-action-background-color: …; }``);
it is served at :data:`CSS_URL` after the Utrecht CSS and ``static/portal.css``,
so its values win. ``PORTAL_LOGO`` names an image (SVG, PNG, WebP or JPEG) shown
in the page header, served at :data:`LOGO_URL`. Both are read once at start-up:
a missing, oversized or unsupported file stops the portal with a clear message
instead of a page without its look. Neither may load anything from elsewhere: the
Content-Security-Policy (``style-src 'self'; img-src 'self'``) still applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal.settings import Settings, SettingsError

CSS_URL = "/theme/tokens.css"
LOGO_URL = "/theme/logo"
MAX_CSS_BYTES = 256 * 1024
MAX_LOGO_BYTES = 1024 * 1024
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".webp": "image/webp",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# A served SVG opened on its own runs nothing and loads nothing.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class Theme:
    css: bytes | None = None
    logo: bytes | None = None
    logo_type: str = ""


def _read(path: Path, setting: str, limit: int) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{setting}: cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise SettingsError(f"{setting}: {path} is larger than {limit // 1024} KiB")
    return data


def load_theme(settings: Settings) -> Theme:
    """Read the configured theme files; :class:`SettingsError` names what is wrong."""
    css = None
    if settings.theme_css is not None:
        css = _read(settings.theme_css, "PORTAL_THEME_CSS", MAX_CSS_BYTES)
        try:
            css.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SettingsError(f"PORTAL_THEME_CSS: {settings.theme_css} is not UTF-8") from exc
    logo, logo_type = None, ""
    if settings.logo is not None:
        logo_type = LOGO_TYPES.get(settings.logo.suffix.lower(), "")
        if not logo_type:
            raise SettingsError(f"PORTAL_LOGO: {settings.logo} is not one of "
                                + ", ".join(sorted(LOGO_TYPES)))
        logo = _read(settings.logo, "PORTAL_LOGO", MAX_LOGO_BYTES)
    return Theme(css=css, logo=logo, logo_type=logo_type)


def routes(theme: Theme) -> list[BaseRoute]:
    """The theme's two fixed URLs; 404 for what is not configured."""

    async def theme_css(request: Request) -> Response:
        if theme.css is None:
            return Response(status_code=404)
        return Response(theme.css, media_type="text/css; charset=utf-8")

    async def theme_logo(request: Request) -> Response:
        if theme.logo is None:
            return Response(status_code=404)
        return Response(theme.logo, media_type=theme.logo_type,
                        headers={"Content-Security-Policy": LOGO_CSP})

    return [Route(CSS_URL, theme_css, methods=["GET"]),
            Route(LOGO_URL, theme_logo, methods=["GET"])]
