"""The tamper-evident export: a clean export verifies; an altered op, a removed line, reordered lines, a cut-short
file each fail naming the right line; the CLI exits 0 or 1; names only when asked; the export is paged."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from scribetree.cli import app as cli
from scribetree.integrity import export as export_module
from scribetree.integrity.export import canonical, line_hash, signing_key, verify_lines
from tests.integrity.replay_helpers import crafted
from tests.writing.conftest import ClientFor, Klass

API = "/api/v1/documents"


async def exported(c: httpx.AsyncClient, doc_id: str, **params: str) -> list[str]:
    r = await c.get(f"{API}/{doc_id}/events/export", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in r.headers["content-disposition"]
    return r.text.splitlines(keepends=True)


def rehash(line: dict) -> str:
    """A line whose hash was recomputed after an edit (a forger who knows the format)."""
    line["hash"] = line_hash(line)
    return canonical(line).decode() + "\n"


@pytest.fixture
async def lines(klass: Klass, client_for: ClientFor) -> list[str]:
    c = await client_for(klass.student, klass.tenant)
    w = await crafted(c, klass.assignment.id)
    out = await exported(c, w.id)
    kinds = [json.loads(x)["type"] for x in out]
    assert kinds[0] == "header" and kinds[-1] == "end" and "restore" in kinds
    assert kinds.count("batch") == len(kinds) - 3
    return out


def first_batch_with_ops(lines: list[str], start: int = 1) -> int:
    return next(
        i
        for i in range(start, len(lines))
        if json.loads(lines[i]).get("type") == "batch" and any("text" in o for o in json.loads(lines[i])["ops"])
    )


class TestVerify:
    def test_clean_export_verifies_with_a_valid_signature(self, lines: list[str]) -> None:
        v = verify_lines(lines, signing_key())
        assert v.ok, v.message()
        assert v.signature == "valid" and v.lines == len(lines)
        assert verify_lines(lines, b"another server's key").signature == "invalid"

    def test_altered_op_names_its_line(self, lines: list[str]) -> None:
        i = first_batch_with_ops(lines, 3)
        line = json.loads(lines[i])
        o = next(o for o in line["ops"] if "text" in o)
        o["text"] += "!"
        tampered = [*lines[:i], canonical(line).decode() + "\n", *lines[i + 1 :]]
        v = verify_lines(tampered)
        assert (v.ok, v.bad_line) == (False, i + 1) and "altered" in (v.problem or "")
        # the forger also fixes the line's hash: replaying its ops no longer gives the recorded content hash
        v = verify_lines([*lines[:i], rehash(line), *lines[i + 1 :]])
        assert (v.ok, v.bad_line) == (False, i + 1) and "content hash" in (v.problem or "")
        # and a change that keeps the content (a timestamp): the next line's prev_hash no longer matches
        line = json.loads(lines[i])
        line["received_at"] = "2020-01-01T00:00:00+00:00"
        v = verify_lines([*lines[:i], rehash(line), *lines[i + 1 :]])
        assert (v.ok, v.bad_line) == (False, i + 2) and "prev_hash" in (v.problem or "")

    def test_rewritten_chain_still_fails_on_content(self, lines: list[str]) -> None:
        """Rehashing the whole rest of the chain hides the edit from the chain, not from the replay."""
        i = first_batch_with_ops(lines, 3)
        out, head = [], json.loads(lines[i - 1])["hash"]
        for n, raw in enumerate(lines[i:], start=i):
            line = json.loads(raw)
            if n == i:
                o = next(o for o in line["ops"] if "text" in o)
                o["text"] = "X" * len(o["text"])
            line["prev_hash"] = head
            if line["type"] == "end":
                line["head"] = head
            out.append(rehash(line))
            head = line["hash"]
        v = verify_lines([*lines[:i], *out])
        assert (v.ok, v.bad_line) == (False, i + 1) and "content hash" in (v.problem or "")

    def test_deleted_line(self, lines: list[str]) -> None:
        for i in (1, 4, len(lines) - 2):
            v = verify_lines([*lines[:i], *lines[i + 1 :]])
            assert (v.ok, v.bad_line) == (False, i + 1), (i, v.message())

    def test_reordered_lines(self, lines: list[str]) -> None:
        i = 3
        swapped = [*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]]
        v = verify_lines(swapped)
        assert (v.ok, v.bad_line) == (False, i + 1)

    def test_cut_short_and_trailing_lines(self, lines: list[str]) -> None:
        v = verify_lines(lines[:-1])
        assert (v.ok, v.bad_line) == (False, len(lines)) and "missing" in (v.problem or "")
        v = verify_lines([*lines, lines[1]])
        assert (v.ok, v.bad_line) == (False, len(lines) + 1)
        assert verify_lines(["not json\n"]).bad_line == 1
        assert verify_lines([lines[1]]).bad_line == 1  # does not start with a header

    def test_malformed_but_rehashed_lines(self, lines: list[str]) -> None:
        """A forger who rehashes the line still fails on what the line says; the verifier never crashes."""
        batch = first_batch_with_ops(lines)
        for field, value, i, problem in [
            ("base", "nonsense", 0, "base"),
            ("format", "scribetree.event-log/0", 0, "unknown format"),
            ("ops", 7, batch, "ops must be a list"),
            ("ops", [{"kind": "teleport", "t": 0}], batch, "cannot be applied"),
            ("base_revision", 99, batch, "based on revision 99"),
            ("count", 1, len(lines) - 1, "counts 1 lines"),
        ]:
            changed = json.loads(lines[i])
            changed[field] = value
            v = verify_lines([*lines[:i], rehash(changed), *lines[i + 1 :]])
            assert (v.ok, v.bad_line) == (False, i + 1), (field, v.message())
            assert problem in (v.problem or ""), (field, v.problem)


class TestCli:
    def test_exit_codes(self, lines: list[str], tmp_path: Path) -> None:
        good = tmp_path / "good.jsonl"
        good.write_text("".join(lines), encoding="utf-8")
        r = CliRunner().invoke(cli, ["integrity", "verify-export", str(good), "--require-signature"])
        assert r.exit_code == 0, r.output
        assert "signature valid" in r.output
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join([*lines[:2], *lines[3:]]), encoding="utf-8")
        r = CliRunner().invoke(cli, ["integrity", "verify-export", str(bad)])
        assert r.exit_code == 1
        assert "line 3:" in r.output
        r = CliRunner().invoke(cli, ["integrity", "verify-export", str(tmp_path / "missing.jsonl")])
        assert r.exit_code == 1 and "Cannot read" in r.output


class TestExport:
    async def test_names_only_when_asked_and_paged(
        self, klass: Klass, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(export_module, "PAGE", 3)  # several pages of the log
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        plain = await exported(c, w.id)
        assert verify_lines(plain, signing_key()).ok
        header = json.loads(plain[0])
        assert set(header["student"]) == {"pseudonym"} and "Ada Student" not in "".join(plain)
        assert header["document_id"] == w.id and header["tenant"]["id"] == str(klass.tenant.id)
        named = await exported(c, w.id, identify="name")
        assert json.loads(named[0])["student"]["name"] == "Ada Student"
        assert verify_lines(named, signing_key()).ok
        end = json.loads(plain[-1])
        assert end["revision"] == w.revision and end["count"] == len(plain) - 1
        r = await c.get(f"{API}/{w.id}/events/export", params={"identify": "everything"})
        assert r.status_code == 422

    async def test_others_get_404(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        w = await crafted(c, klass.assignment.id)
        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.get(f"{API}/{w.id}/events/export")).status_code == 404
        assert (await c.get(f"{API}/{uuid.uuid4()}/events/export")).status_code == 404
        staff = await client_for(klass.ta, klass.tenant)
        assert verify_lines(await exported(staff, w.id), signing_key()).ok
