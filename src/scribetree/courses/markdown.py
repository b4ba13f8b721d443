"""Assignment instructions: Markdown in, safe HTML out.

markdown-it-py with raw HTML disabled (``<script>`` and every other tag come out as text) and its link
validation on (``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links are not rendered as links).
Tests in tests/courses/test_markdown.py try the usual ways around both.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # markdown-it-py (62 modules) is imported on the first render, not at start: most requests render none
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md


def render_markdown(text: str) -> str:
    return _parser().render(text or "")
