from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scribetree.core.config import ConfigurationError, Settings, load_settings


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBETREE_")} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60)


class TestSettings:
    def test_production_without_secret_refuses_with_a_reason(self, monkeypatch):
        monkeypatch.setenv("SCRIBETREE_ENV", "production")
        monkeypatch.delenv("SCRIBETREE_SECRET_KEY", raising=False)
        with pytest.raises(ConfigurationError) as exc:
            load_settings()
        assert "SCRIBETREE_SECRET_KEY must be set" in str(exc.value)

    def test_production_needs_postgres_and_smtp(self, monkeypatch):
        monkeypatch.setenv("SCRIBETREE_ENV", "production")
        monkeypatch.setenv("SCRIBETREE_SECRET_KEY", "x" * 40)
        with pytest.raises(ConfigurationError, match="PostgreSQL"):
            load_settings()
        monkeypatch.setenv("SCRIBETREE_DATABASE_URL", "postgresql+psycopg://db/scribetree")
        with pytest.raises(ConfigurationError, match="SMTP_HOST"):
            load_settings()
        monkeypatch.setenv("SCRIBETREE_SMTP_HOST", "smtp.example.org")
        assert load_settings().is_production

    def test_typed_values_are_checked(self, monkeypatch):
        monkeypatch.setenv("SCRIBETREE_MAX_BODY_BYTES", "ten")
        with pytest.raises(ConfigurationError, match="SCRIBETREE_MAX_BODY_BYTES"):
            load_settings()

    def test_embedded_default_is_sqlite_under_the_data_dir(self, tmp_path):
        s = Settings(DATA_DIR=tmp_path)
        assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/scribetree.db"
        assert not s.cookie_secure

    def test_the_cli_explains_a_bad_production_start(self, tmp_path):
        r = subprocess.run(
            [sys.executable, "-m", "scribetree.cli", "init"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("SCRIBETREE_")},
                "SCRIBETREE_ENV": "production",
                "SCRIBETREE_DATA_DIR": str(tmp_path),
            },
        )
        assert r.returncode == 2
        assert "cannot start" in r.stderr and "SCRIBETREE_SECRET_KEY" in r.stderr
        assert "Traceback" not in r.stderr
