"""Outgoing mail: queued with the caller's transaction, delivered by the worker (SMTP or .eml files)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import select

from scribetree.core import db, jobs, mail
from scribetree.core.config import settings
from scribetree.core.ids import uuid7
from scribetree.core.jobs_models import Job, JobState

pytestmark = pytest.mark.usefixtures("engines")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    monkeypatch.setattr(settings, "SMTP_HOST", "")
    return tmp_path


async def mail_jobs() -> list[Job]:
    session = db.make_session(write=False)
    try:
        return list((await session.scalars(select(Job).where(Job.actor == mail.ACTOR))).all())
    finally:
        await session.close()


async def send(**kwargs: str) -> None:
    async with db.unit_of_work() as s:
        await mail.send_mail(s, **{"to": "ada@example.edu", "subject": "Hello", "body": "Body text.", **kwargs})


class TestDevMailbox:
    async def test_mail_is_written_after_commit_as_an_eml_file(self, data_dir: Path) -> None:
        await send(subject="Reset your password", body="Follow this link: https://x.test/r/abc\n")
        assert list(data_dir.glob("mail/*.eml")) == []  # queued, not sent
        assert await jobs.run_pending() == 1
        [path] = list(data_dir.glob("mail/*.eml"))
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert msg["To"] == "ada@example.edu"
        assert msg["From"] == settings.MAIL_FROM
        assert msg["Subject"] == "Reset your password"
        assert msg["Date"] is not None
        [job] = await mail_jobs()
        assert msg["Message-ID"].startswith(f"<{job.args['message_id']}@")
        assert path.name.endswith(f"-{job.args['message_id']}.eml")
        assert msg.get_body().get_content() == "Follow this link: https://x.test/r/abc\n"

    async def test_rolled_back_mail_is_never_sent(self, data_dir: Path) -> None:
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await mail.send_mail(s, to="ada@example.edu", subject="Hi", body="x")
                raise RuntimeError("the change failed")
        assert await mail_jobs() == []
        assert await jobs.run_pending() == 0
        assert not (data_dir / "mail").exists()

    async def test_a_retried_delivery_writes_no_second_file(self, data_dir: Path) -> None:
        args = {"to": "ada@example.edu", "subject": "Once", "body": "b", "message_id": str(uuid7())}
        async with db.unit_of_work() as s:
            await mail.deliver_mail(s, **args)
            await mail.deliver_mail(s, **args)
        assert len(list(data_dir.glob("mail/*.eml"))) == 1

    async def test_header_injection_and_bad_addresses_are_refused_before_queueing(self, data_dir: Path) -> None:
        with pytest.raises(ValueError, match="line breaks"):
            await send(subject="Hi\r\nBcc: everyone@example.edu")
        with pytest.raises(ValueError, match="not a mail address"):
            await send(to="not an address")
        assert await mail_jobs() == []

    async def test_list_is_newest_first_and_read_refuses_paths(self, data_dir: Path) -> None:
        await send(subject="first")
        assert await jobs.run_pending() == 1
        await send(subject="second")
        assert await jobs.run_pending() == 1
        # same second: names differ by the time-ordered message id, which keeps the order
        listed = mail.list_dev_mail()
        assert [m["subject"] for m in listed] == ["second", "first"]
        assert listed[0]["to"] == "ada@example.edu"
        assert listed[0]["body"] == "Body text.\n"
        assert mail.list_dev_mail(limit=1)[0]["subject"] == "second"
        assert mail.read_dev_mail(listed[1]["name"])["subject"] == "first"
        (data_dir / "secret.eml").write_text("Subject: secret\n\nno")
        for name in ["../secret.eml", "..%2Fsecret.eml", "/etc/passwd", "secret.eml", listed[0]["name"] + "/..", ""]:
            assert mail.read_dev_mail(name) is None, name

    async def test_a_message_id_that_is_not_a_uuid_is_refused(self, data_dir: Path) -> None:
        async with db.unit_of_work() as s:
            await jobs.enqueue(s, mail.ACTOR, to="ada@example.edu", subject="x", body="y", message_id="../../evil")
        assert await jobs.run_pending() == 1
        [job] = await mail_jobs()
        assert job.state == JobState.dead
        assert list(data_dir.rglob("*evil*")) == []

    def test_no_mail_folder_means_an_empty_list(self, data_dir: Path) -> None:
        assert mail.list_dev_mail() == []


# ---- SMTP -----------------------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """Just enough of RFC 5321 for smtplib: records envelopes; refuses recipients starting with 'reject'."""

    port: int = 0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, rcpts = "", []
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250 sink\r\n")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip(" <>"), []
                writer.write(b"250 OK\r\n")
            elif verb == "RCPT":
                rcpt = cmd.split(":", 1)[1].strip(" <>")
                if rcpt.startswith("reject"):
                    writer.write(b"550 5.1.1 no such user\r\n")
                else:
                    rcpts.append(rcpt)
                    writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.received.append((sender, rcpts, data))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def smtp(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink.port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(settings, "SMTP_PORT", sink.port)
    monkeypatch.setattr(settings, "SMTP_STARTTLS", False)  # the sink speaks no TLS
    try:
        yield sink
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


class TestSmtp:
    async def test_mail_goes_out_over_smtp(self, smtp: SmtpSink, data_dir: Path) -> None:
        await send(to="Ada Lovelace <ada@example.edu>", subject="Invitation")
        assert await jobs.run_pending() == 1
        [(sender, rcpts, data)] = smtp.received
        assert rcpts == ["ada@example.edu"]
        assert sender == parseaddr(settings.MAIL_FROM)[1]
        msg = BytesParser(policy=policy.default).parsebytes(data)
        assert msg["Subject"] == "Invitation"
        assert not (data_dir / "mail").exists()
        [job] = await mail_jobs()
        assert job.state == JobState.succeeded

    async def test_a_refused_recipient_is_dead_not_retried(self, smtp: SmtpSink) -> None:
        await send(to="reject-me@example.edu")
        assert await jobs.run_pending() == 1
        [job] = await mail_jobs()
        assert (job.state, job.attempts) == (JobState.dead, 1)
        assert job.last_error.startswith("PermanentJobError: recipient refused")
        assert smtp.received == []
