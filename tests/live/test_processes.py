"""Live updates across server processes: two ``scribetree serve`` processes sharing the real Redis (a student
writes on A, the educator listens on B), and one process in the embedded mode (no Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from scribetree.core.http import csrf_token
from tests.core.test_pubsub import need_redis
from tests.factories.writing import batch_body, ins
from tests.live.conftest import free_port
from tests.live.test_socket import cookie_of, recv, until
from tests.writing.conftest import ClientFor, Klass

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB_URL = "redis://127.0.0.1:6379/13"


@contextlib.contextmanager
def serve(database_url: str, redis_url: str, **more_env: str) -> Iterator[str]:
    """``scribetree serve`` in its own process (no migrations, no worker, ``more_env`` on top); yields
    ``host:port``."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="scribetree-live-")
    env = {
        **os.environ,
        "SCRIBETREE_ENV": "testing",
        "SCRIBETREE_DATABASE_URL": database_url,
        "SCRIBETREE_REDIS_URL": redis_url,
        "SCRIBETREE_DATA_DIR": data,
        "SCRIBETREE_WORKER_IN_PROCESS": "false",
        "SCRIBETREE_RATE_LIMIT_ENABLED": "false",
        "SCRIBETREE_LOG_LEVEL": "WARNING",
        "SCRIBETREE_LOG_JSON": "false",
        "SCRIBETREE_BASE_URL": f"http://127.0.0.1:{port}",
        **more_env,
    }
    log = Path(data) / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scribetree.cli", "serve", "--port", str(port), "--no-migrate", "--no-worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_ready(*hosts: str) -> None:
    # generous: on the shared 2-core machine under a full parallel suite, starting Python and importing the app
    # has taken over 30 s
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=1) as c:
        for host in hosts:
            while True:
                try:
                    if (await c.get(f"http://{host}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{host} did not start"
                await asyncio.sleep(0.1)


async def student_writes(host: str, token: str, assignment_id: object) -> dict:
    headers = {"X-CSRF-Token": csrf_token(token), "Cookie": f"st_session={token}"}
    async with httpx.AsyncClient(base_url=f"http://{host}", headers=headers, timeout=10) as c:
        doc = (await c.post(f"/api/v1/assignments/{assignment_id}/document")).json()
        body, _ = batch_body(
            doc["text"],
            [ins(0, "Written on A.")],
            seq=1,
            base_revision=doc["revision"],
            session_id="6f1c1e1a-0000-4000-8000-000000000001",
        )
        r = await c.post(f"/api/v1/documents/{doc['id']}/batches", json=body)
        assert r.status_code == 200, r.text
        return doc


@pytest.mark.parametrize("mode", ["redis-two-processes", "embedded-one-process"])
async def test_a_batch_on_one_process_reaches_the_educator(
    mode: str, klass: Klass, client_for: ClientFor, database_url: str
) -> None:
    redis_url = ""
    if mode.startswith("redis"):
        need_redis()
        redis_url = REDIS_DB_URL
    staff = cookie_of(await client_for(klass.instructor, klass.tenant))
    student = cookie_of(await client_for(klass.student, klass.tenant))
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(serve(database_url, redis_url))
        b = stack.enter_context(serve(database_url, redis_url)) if redis_url else a
        await wait_ready(*{a, b})
        async with connect(
            f"ws://{b}/ws/courses/{klass.course.id}/live",
            additional_headers={"Cookie": f"st_session={staff}"},
            origin=f"http://{b}",  # type: ignore[arg-type]
            open_timeout=10,
        ) as ws:
            assert (await recv(ws, 10))["type"] == "hello"
            doc = await student_writes(a, student, klass.assignment.id)
            msg = await until(ws, "activity", 10)
            assert (msg["document_id"], msg["user_id"], msg["word_count"]) == (doc["id"], str(klass.student.id), 3)


def test_serve_keeps_an_idle_connection_for_the_configured_time(database_url: str) -> None:
    """uvicorn closes an idle connection after 5 s unless told otherwise; a balancer in front that keeps it 60 s
    then sends requests on connections being closed. `serve` passes HTTP_KEEP_ALIVE_SECONDS to uvicorn."""
    with serve(database_url, "", SCRIBETREE_HTTP_KEEP_ALIVE_SECONDS="2") as host:
        asyncio.run(wait_ready(host))
        conn = http.client.HTTPConnection(host, timeout=10)

        def healthz() -> int:
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            answer.read()
            return answer.status

        try:
            assert healthz() == 200
            sock = conn.sock
            time.sleep(1)  # idle, under the setting: the same connection still answers
            assert healthz() == 200 and conn.sock is sock
            time.sleep(3.5)  # idle, over it: the server has closed the connection
            with pytest.raises(ConnectionError):
                healthz()
        finally:
            conn.close()


def test_serve_freezes_its_start_up_heap(database_url: str) -> None:
    """core.gcpolicy in the real command: once started, `serve` has moved its start-up objects out of the garbage
    collector's way, and says so in /metrics; the setting turns it off."""

    def frozen(**env: str) -> float:
        with serve(database_url, "", **env) as host:
            asyncio.run(wait_ready(host))
            body = httpx.get(f"http://{host}/metrics", timeout=30).text
        (line,) = [x for x in body.splitlines() if x.startswith("scribetree_gc_frozen_objects ")]
        return float(line.split()[-1])

    assert frozen() > 100_000
    assert frozen(SCRIBETREE_GC_FREEZE_AT_STARTUP="false") == 0
