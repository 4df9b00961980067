"""Jinja2 with autoescape, gettext, and the portal's page helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal.localtime import local_time
from portal.web import i18n, labels

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"


def make_environment(*, reload: bool = False) -> Environment:
    """The portal's Jinja environment; ``reload`` re-reads templates whose file changed.

    Without ``reload`` each template is compiled once per process: no
    ``stat`` of every template (and of each one it extends, includes or
    imports) on every page.
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        auto_reload=reload,
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["current_language"] = i18n.current_language
    env.filters["local"] = local_time
    env.globals["label"] = labels.label
    env.globals["basis_text"] = labels.basis_text
    env.globals["reason_text"] = labels.reason_text
    env.globals["event_text"] = labels.event_text
    return env


def render(env: Environment, name: str, context: dict[str, Any]) -> str:
    return env.get_template(name).render(context)
