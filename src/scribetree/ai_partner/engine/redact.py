"""Minimise the student's words before they leave for an external provider.

Only a bounded excerpt of the draft is sent (the end, where the student is working), and from it and from
the question we strip e-mail addresses, URLs, phone numbers, identifiers (UUIDs, numbers of 5+ digits, codes
mixing letters and digits), and names: after an honorific, after "my name is / I am / I'm", on signature
lines ("Name:", "Student:", "By ..."), runs of two or more capitalised words inside a sentence, and any names
the caller passes. The name rules prefer privacy to fidelity: "New York" becomes "[name]" too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EXCERPT_CHARS = 1_200
QUESTION_CHARS = 500

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)")
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
_CODE = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]{5,}\b")
_HONORIFIC = re.compile(
    r"\b(Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Madam|Teacher)\.?\s+[A-Z][\w'\u2019-]+(\s+[A-Z][\w'\u2019-]+)?"
)
_SELF_NAME = re.compile(
    r"\b(my name is|i am|i'm|call me|this is)\s+([A-Z][\w'\u2019-]+)(\s+[A-Z][\w'\u2019-]+)?", re.IGNORECASE
)
_SIGNATURE = re.compile(r"(?im)^\s*(name|student|by|author|written by|from|id|student id)\s*[:\-]?\s+.+$")
_CAPITAL_RUN = re.compile(r"(?<=[a-z,;:]\s)([A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)+)")


def redact(text: str, names: Iterable[str] = ()) -> str:
    out = text or ""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[name]", out, flags=re.IGNORECASE)  # whole words only
    out = _EMAIL.sub("[email]", out)
    out = _URL.sub("[url]", out)
    out = _UUID.sub("[id]", out)
    out = _PHONE.sub("[phone]", out)
    out = _LONG_NUMBER.sub("[id]", out)
    out = _CODE.sub("[id]", out)
    out = _SIGNATURE.sub(lambda m: m.group(1) + ": [name]", out)
    out = _HONORIFIC.sub("[name]", out)
    out = _SELF_NAME.sub(lambda m: m.group(1) + " [name]" if m.group(2)[0].isupper() else m.group(0), out)
    out = _CAPITAL_RUN.sub("[name]", out)
    return out


def excerpt(draft: str, limit: int = EXCERPT_CHARS) -> str:
    """The end of the draft, at most ``limit`` characters, starting at a word boundary."""
    draft = (draft or "").strip()
    if len(draft) <= limit:
        return draft
    cut = draft[-limit:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < 60 else cut


def minimise(question: str, draft: str, names: Iterable[str] = ()) -> tuple[str, str]:
    """What may be sent out: the redacted question (bounded) and a redacted excerpt of the draft."""
    names = tuple(names)
    question = _valid_text((question or "")[:QUESTION_CHARS])
    return redact(question, names), redact(_valid_text(excerpt(draft)), names)


def _valid_text(text: str) -> str:
    """Lone surrogates (possible in text from a browser) cannot be sent as UTF-8: replace them."""
    return text.encode("utf-8", "replace").decode("utf-8")
