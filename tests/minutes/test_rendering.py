"""Minutes render inert: an XSS payload, raw HTML in Markdown and javascript: links."""

from __future__ import annotations

from tests.harness import Running
from tests.minutes.helpers import CASE_ID, MINUTES, logged_in, save, section, submit_and_approve

PAYLOADS = ('<script>alert("x")</script>', '<img src=x onerror=alert(1)>',
            '[klik](javascript:alert(1))', '<a href="javascript:alert(2)">hier</a>',
            '<svg onload=alert(3)>')


def test_payloads_render_as_text(running: Running) -> None:
    writer = logged_in(running, "notulist")
    body = "\n\n".join(PAYLOADS) + "\n\n**vet** en *schuin*"
    save(writer, section('Kop <b onmouseover="alert(4)">x</b>', body, shared=True))
    submit_and_approve(running, writer, 1)
    pages = [logged_in(running, "ib").page(MINUTES).text,
             logged_in(running, "ouder1").page(f"/family/cases/{CASE_ID}").text,
             writer.page(f"{MINUTES}/history").text]
    for html in pages:
        assert "&lt;script&gt;" in html
        for tag in ("<script>alert", "<img", "<svg", "<b onmouseover", "<a href=\"javascript"):
            assert tag not in html
        assert 'href="javascript:' not in html and "href='javascript:" not in html
    assert "<strong>vet</strong>" in pages[0]  # the Markdown subset still works
    editor = writer.page(f"{MINUTES}/edit").text
    assert "&lt;script&gt;" in editor and "<script>alert" not in editor
