"""Outgoing mail, always through the job queue (STYLE T4): a rolled-back transaction sends nothing.

``send_mail`` checks and enqueues; the ``core.deliver_mail`` actor sends. Delivery is at-least-once (a
worker can die between the SMTP ``250`` and the commit), so every message carries a ``Message-ID`` fixed at
enqueue time: a retry resends the *same* message, which receiving systems recognise as a duplicate.

Without ``SMTP_HOST`` (development), messages are written as RFC 5322 ``.eml`` files under
``DATA_DIR/mail`` for the development mail page; the file name is derived from the message id, so a
retried job finds its file and writes no second one. Production refuses to start without ``SMTP_HOST``.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import ssl
import uuid
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, jobs
from scribetree.core.config import settings
from scribetree.core.ids import uuid7

ACTOR = "core.deliver_mail"
_DEV_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f-]{36}\.eml$")


def _message(*, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    """Raises ``ValueError`` for what no retry can fix: header injection, an unparsable address."""
    if any(c in value for value in (to, subject) for c in "\r\n"):
        raise ValueError("line breaks are not allowed in mail headers")
    try:
        Address(addr_spec=parseaddr(to)[1])
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValueError(f"not a mail address: {to!r}") from exc
    domain = parseaddr(settings.MAIL_FROM)[1].rpartition("@")[2] or "scribetree.local"
    msg = EmailMessage(policy=policy.default)  # smtplib switches to CRLF itself; files keep LF
    msg["From"] = settings.MAIL_FROM
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.utcnow())
    msg["Message-ID"] = f"<{message_id}@{domain}>"
    msg.set_content(body)
    return msg


async def send_mail(
    session: AsyncSession, *, to: str, subject: str, body: str, tenant_id: uuid.UUID | None = None
) -> None:
    """Queue a plain-text message in the caller's transaction; it leaves after the commit."""
    message_id = str(uuid7())
    _message(to=to, subject=subject, body=body, message_id=message_id)  # fail now, not in ten retries
    await jobs.enqueue(session, ACTOR, tenant_id=tenant_id, to=to, subject=subject, body=body, message_id=message_id)


@jobs.actor(ACTOR, max_attempts=10, timeout_seconds=120)
async def deliver_mail(
    session: AsyncSession, *, to: str, subject: str, body: str, message_id: str, tenant_id: str | None = None
) -> None:
    try:
        message_id = str(uuid.UUID(message_id))  # it names a file below: nothing but a UUID may pass
        msg = _message(to=to, subject=subject, body=body, message_id=message_id)
    except ValueError as exc:
        raise jobs.PermanentJobError(str(exc)) from exc
    if settings.SMTP_HOST:
        await asyncio.to_thread(_smtp_send, msg)
    else:
        await asyncio.to_thread(_write_dev_mail, msg, message_id)


def _smtp_send(msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    timeout = 30
    if settings.SMTP_PORT == 465:  # implicit TLS (RFC 8314 §3.3)
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.SMTP_HOST, settings.SMTP_PORT, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=timeout)
    with smtp:
        if settings.SMTP_STARTTLS and not isinstance(smtp, smtplib.SMTP_SSL):
            smtp.starttls(context=context)
        if settings.SMTP_USERNAME:
            smtp.login(settings.SMTP_USERNAME, settings.SMTP_PASSWORD.get_secret_value())
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):  # 5xx: permanent (RFC 5321 §4.2.1)
                raise jobs.PermanentJobError(f"recipient refused: {exc.recipients}") from exc
            raise


# ---- development mailbox --------------------------------------------------------------------------------


def _mail_dir() -> Path:
    return settings.DATA_DIR / "mail"


def _write_dev_mail(msg: EmailMessage, message_id: str) -> None:
    folder = _mail_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.glob(f"*-{message_id}.eml")):  # an earlier attempt of this job wrote it
        return
    stamp = clock.utcnow().strftime("%Y%m%dT%H%M%SZ")
    final = folder / f"{stamp}-{message_id}.eml"
    partial = folder / f".{message_id}.partial"  # written whole, then renamed: no half file survives a crash
    partial.write_bytes(msg.as_bytes())
    os.replace(partial, final)


def _summary(path: Path) -> dict[str, Any]:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = msg.get_body(preferencelist=("plain",))
    return {
        "name": path.name,
        "to": str(msg["To"] or ""),
        "subject": str(msg["Subject"] or ""),
        "date": str(msg["Date"] or ""),
        "message_id": str(msg["Message-ID"] or ""),
        "body": body.get_content() if body is not None else "",
    }


def list_dev_mail(limit: int = 50) -> list[dict[str, Any]]:
    """Messages written in development, newest first (names start with the UTC time)."""
    folder = _mail_dir()
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if _DEV_NAME.match(p.name)), reverse=True)
    return [_summary(folder / name) for name in names[:limit]]


def read_dev_mail(name: str) -> dict[str, Any] | None:
    """One development message by file name; anything but a plain name from the mail folder is refused."""
    if not _DEV_NAME.match(name):
        return None
    path = _mail_dir() / name
    return _summary(path) if path.is_file() else None
