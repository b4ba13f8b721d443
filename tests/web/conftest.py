"""Helpers for the page tests: a private data folder (mail, demo accounts), development mode, CSRF scraping.

``_empty_tables`` is imported because ``tests.fixtures.db.__all__`` leaves it out (see tests/core/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from scribetree.core.config import Environment, settings
from tests.fixtures.db import _empty_tables  # noqa: F401

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
LINK_RE = re.compile(r'href="(/(?:reset|invite)/[A-Za-z0-9_-]+)"')


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every page test runs as ``testing`` with its own data folder (mail, demo-accounts file).

    Set here explicitly: ``-p tests.fixtures`` imports scribetree before tests/conftest.py sets
    ``SCRIBETREE_ENV``, so the process-wide settings are otherwise those of development.
    """
    monkeypatch.setattr(settings, "ENV", Environment.testing)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    monkeypatch.setattr(settings, "SMTP_HOST", "")
    return tmp_path


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    monkeypatch.setattr(settings, "ENV", Environment.development)
    return data_dir


def csrf_in(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def form_csrf(client: httpx.AsyncClient, url: str) -> str:
    """Open a page like a browser (which also sets the pre-session cookie) and read its form token."""
    r = await client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:500])
    return csrf_in(r.text)


async def sign_in(client: httpx.AsyncClient, slug: str, email: str, password: str, **extra: str) -> httpx.Response:
    token = await form_csrf(client, f"/t/{slug}/signin")
    return await client.post(f"/t/{slug}/signin", data={"csrf_token": token, "email": email, "password": password,
                                                         **extra})
