"""The tamper-evident export of a document's raw event log (JSON Lines, hash-chained, HMAC-signed end line).

Format ``scribetree.event-log/1`` (docs/integrity.md, "Tamper-evident export"): line 1 is a ``header``, then one
``batch`` line per accepted batch in acceptance order (a ``restore`` line where an older version was made current,
carrying that text), then an ``end`` line with the count and the chain head. Every line carries ``prev_hash`` (the
previous line's ``hash``; 64 zeros for the header) and ``hash`` = SHA-256 of the line's canonical JSON without
``hash`` (keys sorted, no spaces, UTF-8). The end line also carries ``hmac``: HMAC-SHA256 of its canonical JSON
without ``hmac``, under a key derived from the server's ``SECRET_KEY``.

The chain proves integrity to anyone (any change, removal or reordering breaks it at the first affected line, and
replaying the ops must reproduce every batch's ``content_hash``). Only the HMAC proves origin, and only to a holder
of the server's key: someone who rewrites the whole file can recompute the chain, not the HMAC.

Writing and verifying are both streaming: one page of batches (or one line) in memory at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.core.config import settings
from scribetree.core.errors import InvalidInput
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.writing import ops
from scribetree.writing.exceptions import InvalidOp
from scribetree.writing.models import VersionKind
from scribetree.writing.service import document as document_service

FORMAT = "scribetree.event-log/1"
GENESIS = "0" * 64
KEY_CONTEXT = b"scribetree integrity event-log export v1"
PAGE = 1000  # batches read per query while writing an export

Identify = Literal["pseudonym", "name"]


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...


class InvalidExportQuery(InvalidInput):
    default_detail = "The export query is not valid."


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def line_hash(line: dict[str, Any]) -> str:
    """SHA-256 of the line's canonical JSON without its ``hash`` (and ``hmac``) field."""
    return hashlib.sha256(canonical({k: v for k, v in line.items() if k not in ("hash", "hmac")})).hexdigest()


def signing_key() -> bytes:
    # imported here, not with the module: cryptography's bindings cost a serve process about 6 MB of RSS, and
    # only an export or a verification needs them
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = settings.SECRET_KEY.get_secret_value().encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_CONTEXT).derive(secret)


def sign(line: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical({k: v for k, v in line.items() if k != "hmac"}), hashlib.sha256).hexdigest()


def pseudonym(key: bytes, tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> str | None:
    """Stable per institution and server key, not reversible without the key."""
    if user_id is None:
        return None
    digest = hmac.new(key, f"pseudonym:{tenant_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"writer-{digest[:16]}"


class _Chain:
    def __init__(self, out: TextSink) -> None:
        self.out, self.head, self.count = out, GENESIS, 0

    def write(self, line: dict[str, Any]) -> dict[str, Any]:
        line["prev_hash"] = self.head
        line["hash"] = line_hash(line)
        self.head = line["hash"]
        self.count += 1
        self.out.write(canonical(line).decode("utf-8") + "\n")
        return line


class ExportService:
    async def write(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        out: TextSink,
        *,
        identify: Identify = "pseudonym",
        audit_session: AsyncSession | None = None,
    ) -> str:
        """Write the export of the document's log to ``out``; returns a file name for it. Staff reads audited."""
        if identify not in ("pseudonym", "name"):
            raise InvalidExportQuery("'identify' must be 'pseudonym' or 'name'.", field="identify")
        doc = await document_service.read(
            session, ctx, document_id, audit_session=audit_session, what="event_export", identify=identify
        )
        key = signing_key()
        revision, final_hash = doc.revision, doc.content_hash  # the state this export ends at
        restores = sorted(
            {v.revision for v in await document_service.versions_of(session, doc) if v.kind == VersionKind.restore}
        )
        student: dict[str, Any] = {"pseudonym": pseudonym(key, doc.tenant_id, doc.owner_user_id)}
        if doc.group_id is not None:
            student = {"group_id": str(doc.group_id)}
        elif identify == "name" and doc.owner_user_id is not None:
            users = await identity.users_by_ids(session, [doc.owner_user_id])
            owner = users.get(doc.owner_user_id)
            student = {"user_id": str(doc.owner_user_id), "name": owner.display_name if owner else None}
        base = await document_service.rebuild(session, doc, 0)
        chain = _Chain(out)
        chain.write(
            {
                "type": "header",
                "format": FORMAT,
                "exported_at": clock.utcnow().isoformat(),
                "tenant": {"id": str(doc.tenant_id), "slug": ctx.tenant_slug},
                "document_id": str(doc.id),
                "assignment_id": str(doc.assignment_id),
                "student": student,
                "identify": identify,
                "base": {"revision": 0, "text": base, "content_hash": ops.content_hash(base)},
            }
        )
        current = 0

        async def restores_upto(limit: int) -> None:
            nonlocal current
            while restores and restores[0] <= limit:
                r = restores.pop(0)
                if r <= current:
                    continue
                text = await document_service.rebuild(session, doc, r)
                chain.write({"type": "restore", "revision": r, "text": text, "content_hash": ops.content_hash(text)})
                current = r

        after: uuid.UUID | None = None
        while True:
            page = await document_service.log_page(session, doc, after, PAGE)
            for b in page:
                if b.revision > revision:  # written after this export began: not part of it
                    continue
                await restores_upto(b.base_revision)
                chain.write(
                    {
                        "type": "batch",
                        "id": str(b.id),
                        "session_id": str(b.session_id),
                        "seq": b.seq,
                        "base_revision": b.base_revision,
                        "revision": b.revision,
                        "content_hash": b.content_hash,
                        "author": pseudonym(key, doc.tenant_id, b.author_user_id),
                        "received_at": clock.as_utc(b.received_at).isoformat(),
                        "ops": b.ops,
                    }
                )
                current = max(current, b.revision)
            if len(page) < PAGE:
                break
            after = page[-1].id
        await restores_upto(revision)
        end = {"type": "end", "count": chain.count, "revision": revision, "content_hash": final_hash}
        end["head"] = chain.head
        end["prev_hash"] = chain.head
        end["hash"] = line_hash(end)
        end["hmac"] = sign(end, key)
        out.write(canonical(end).decode("utf-8") + "\n")
        return f"events-{doc.id}-r{revision}.jsonl"


export = ExportService()


# ---- verification (pure, streaming) ------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    lines: int  # lines read
    problem: str | None = None
    bad_line: int | None = None  # 1-based
    signature: Literal["valid", "invalid", "not checked"] = "not checked"

    def message(self) -> str:
        if self.ok:
            return (
                f"ok: {self.lines} lines; the hash chain and every content hash check out; signature {self.signature}"
            )
        return f"line {self.bad_line}: {self.problem}"


def _fail(n: int, problem: str) -> Verdict:
    return Verdict(ok=False, lines=n, problem=problem, bad_line=n)


def verify_lines(lines: Iterable[str], key: bytes | None = None) -> Verdict:
    """Recompute the chain and replay the ops; the first line that does not check out is named (1-based)."""
    head = GENESIS
    text = ""
    revision = 0
    n = 0
    stream = iter(lines)
    for n, raw in enumerate(stream, start=1):
        if not raw.strip():
            return _fail(n, "an empty line (lines were removed or the file was edited)")
        try:
            line = json.loads(raw)
        except ValueError:
            return _fail(n, "not valid JSON")
        if not isinstance(line, dict):
            return _fail(n, "not a JSON object")
        kind = line.get("type")
        if n == 1 and kind != "header":
            return _fail(n, "the first line must be the header")
        if n > 1 and kind == "header":
            return _fail(n, "a second header (lines were moved or files joined)")
        if line.get("prev_hash") != head:
            return _fail(n, "its prev_hash is not the previous line's hash (a line was removed, inserted or moved)")
        if line.get("hash") != line_hash(line):
            return _fail(n, "its content does not match its hash (the line was altered)")
        head = line["hash"]
        if kind == "header":
            if line.get("format") != FORMAT:
                return _fail(n, f"unknown format {line.get('format')!r}; this verifier reads {FORMAT}")
            base = line.get("base")
            if not isinstance(base, dict) or not isinstance(base.get("text"), str) or base.get("revision") != 0:
                return _fail(n, "the header's base must hold revision 0 and its text")
            text, revision = base["text"], 0
            if ops.content_hash(text) != base.get("content_hash"):
                return _fail(n, "the base text does not match its content hash")
        elif kind == "batch":
            if line.get("base_revision") != revision:
                return _fail(
                    n, f"the batch is based on revision {line.get('base_revision')} but the log is at {revision}"
                )
            if not isinstance(line.get("ops"), list):
                return _fail(n, "its ops must be a list")
            try:
                parsed = ops.parse_ops(line["ops"])
                after = ops.apply(text, parsed)
            except InvalidOp as exc:
                return _fail(n, f"its ops cannot be applied: {exc.detail}")
            expected = revision + 1 if any(op.changes_text for op in parsed) else revision
            if line.get("revision") != expected:
                return _fail(n, f"revision {line.get('revision')} does not follow {revision}")
            if ops.content_hash(after) != line.get("content_hash"):
                return _fail(n, "replaying its ops does not give the recorded content hash")
            text, revision = after, expected
        elif kind == "restore":
            r = line.get("revision")
            if not isinstance(r, int) or r <= revision:
                return _fail(n, f"a restore to revision {r} after revision {revision}")
            restored = line.get("text")
            if not isinstance(restored, str) or ops.content_hash(restored) != line.get("content_hash"):
                return _fail(n, "the restored text does not match its content hash")
            text, revision = restored, r
        elif kind == "end":
            if line.get("count") != n - 1:
                return _fail(n, f"the end line counts {line.get('count')} lines but {n - 1} precede it")
            if line.get("head") != line.get("prev_hash"):
                return _fail(n, "the end line's head is not the chain's head")
            if line.get("revision") != revision or line.get("content_hash") != ops.content_hash(text):
                return _fail(n, "the replayed text does not reach the final revision and content hash")
            signature: Literal["valid", "invalid", "not checked"] = "not checked"
            if key is not None:
                given = line.get("hmac")
                good = isinstance(given, str) and hmac.compare_digest(given, sign(line, key))
                signature = "valid" if good else "invalid"
            for m, extra in enumerate(stream, start=n + 1):
                if extra.strip():
                    return _fail(m, "a line after the end line")
            return Verdict(ok=True, lines=n, signature=signature)
        else:
            return _fail(n, f"unknown line type {kind!r}")
    return _fail(n + 1, "the end line is missing (the export was cut short)")
