"""Instructions are Markdown; what comes out must never run script (stored XSS through an assignment)."""

from __future__ import annotations

import re

import pytest

from scribetree.courses.markdown import render_markdown

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


@pytest.mark.parametrize("text", ATTACKS)
def test_no_script_and_no_javascript_links(text: str) -> None:
    html = render_markdown(text)
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<img src=x" not in lowered
    assert "<div" not in lowered
    for url in re.findall(r'(?:href|src)="([^"]*)"', lowered):
        assert not url.strip().startswith(("javascript:", "vbscript:", "data:text")), (text, html)
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", lowered), html  # no event-handler attribute on a real tag


def test_ordinary_markdown_still_renders() -> None:
    html = render_markdown(
        "# Essay\n\nWrite **500** words. See [the guide](https://example.edu/guide).\n\n- one\n- two"
    )
    assert "<h1>Essay</h1>" in html and "<strong>500</strong>" in html
    assert '<a href="https://example.edu/guide">the guide</a>' in html and "<li>one</li>" in html


def test_raw_html_shows_as_text() -> None:
    assert render_markdown("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n"


def test_the_check_would_catch_an_unsafe_renderer() -> None:
    """Control: a renderer with HTML on lets the attacks through, so the tests above can fail."""
    from markdown_it import MarkdownIt

    unsafe = MarkdownIt("commonmark", {"html": True}).render(ATTACKS[0])
    assert "<script" in unsafe.lower()
