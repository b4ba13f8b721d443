"""An institution's colours as page styles, and the contrast arithmetic behind the branding warnings.

Contrast follows WCAG 2.2 (relative luminance, §1.4.3 "Contrast (Minimum)": 4.5:1 for text). The pages
put white text on the primary colour; when white does not reach 4.5:1 the generated stylesheet switches
to near-black text, so a poor choice stays readable and the admin is told why.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from scribetree.tenancy.models import Tenant

AA_TEXT = 4.5
WHITE = "#ffffff"
DARK = "#111418"
DEFAULT_PRIMARY = "#1f5f8b"
DEFAULT_ACCENT = "#c2410c"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def clean_color(value: str | None, default: str) -> str:
    """Only ``#rrggbb`` ever reaches a stylesheet; anything else (old rows, imports) falls back."""
    return value.lower() if value and _HEX.match(value) else default


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White where it passes AA, else near-black (which then always passes)."""
    return WHITE if contrast(WHITE, background) >= AA_TEXT else DARK


def darken_to_pass(color: str, against: str = WHITE) -> str:
    """The colour itself, or the nearest darker shade of it that reaches 4.5:1 against ``against``."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        f = 1 - step * 0.05
        candidate = f"#{int(r * f):02x}{int(g * f):02x}{int(b * f):02x}"
        if contrast(candidate, against) >= AA_TEXT:
            return candidate
    return DARK


@dataclass(frozen=True)
class Brand:
    """A detached snapshot of what the pages show of an institution (safe after the session closes)."""

    id: str
    slug: str
    name: str
    display_name: str
    logo_url: str | None
    primary: str
    accent: str
    is_demo: bool
    status: str

    @classmethod
    def of(cls, tenant: Tenant) -> Brand:
        return cls(
            id=str(tenant.id), slug=tenant.slug, name=tenant.name,
            display_name=tenant.display_name or tenant.name, logo_url=tenant.logo_url,
            primary=clean_color(tenant.primary_color, DEFAULT_PRIMARY),
            accent=clean_color(tenant.accent_color, DEFAULT_ACCENT), is_demo=bool(tenant.is_demo),
            status=str(tenant.status),
        )

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.primary}{self.accent}".encode()).hexdigest()[:10]

    @property
    def stylesheet_url(self) -> str:
        return f"/t/{self.slug}/brand.css?v={self.version}"


def stylesheet(brand: Brand) -> str:
    return (
        ":root {\n"
        f"  --brand: {brand.primary};\n"
        f"  --brand-text: {text_on(brand.primary)};\n"
        f"  --brand-link: {darken_to_pass(brand.primary)};\n"
        f"  --accent: {brand.accent};\n"
        "}\n"
    )


@dataclass(frozen=True)
class ContrastReport:
    white_on_primary: float
    used_text: str
    warnings: list[str]


def contrast_report(primary: str) -> ContrastReport:
    """Warnings for the branding page; nothing is refused. (The accent colour is a decorative stripe, which
    WCAG sets no contrast minimum for, so it gets no warning.)"""
    ratio = contrast(WHITE, primary)
    warnings = []
    if ratio < AA_TEXT:
        warnings.append(
            f"White text on the primary colour {primary} has a contrast of {ratio:.1f}:1, below the WCAG AA "
            f"minimum of {AA_TEXT}:1. Scribe Tree will show dark text on it instead; choose a darker primary "
            "colour to keep white text."
        )
    return ContrastReport(white_on_primary=round(ratio, 2), used_text=text_on(primary), warnings=warnings)
