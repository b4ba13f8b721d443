"""A small, bounded asyncio load generator (run it in its own process, never inside the server).

Three modes, each with a fixed number of virtual users and a hard stop (duration, request budget, and a
timeout on every request):

``hello``  every user GETs ``--path`` back to back (or with ``--think``) for ``--duration`` seconds.
``read``   every user signs in once (setup, measured separately), a share of them create an API token and
           then use ``Authorization: Bearer``; then all of them read a mix of API endpoints (and the
           ``/home`` page when it answers 200) for ``--duration`` seconds.
``storm``  ``--users`` working users do what ``read`` does, with ``--think``; after ``--storm-delay``
           seconds, ``--storm-users`` other users sign in at a steady rate spread over ``--storm-spread``
           seconds. The run ends ``--tail`` seconds after the last sign-in answered (or at
           ``--storm-timeout``). Working users' latencies are reported for the storm window only.
``writing`` class writing (needs ``bench.seed --course``): every student signs in and opens their document for
           ``--assignment``, then sends an edit batch (a short insert at the end, with its seq, base revision
           and content hash) every ``--think`` seconds and reloads the document once in ``--reload-every``
           batches; admins list the assignment's submissions every ``--think`` seconds. ``--think 0`` is the
           throughput run. Optional ``--long-doc-email``: a sequential probe before the measured window sends
           ``--probe-batches`` batches to that user's (long) document and as many to a new one, one at a
           time and alternating between the two, and reports both latencies and their ratio.

Clients: ``--client wire`` (the default, ``bench.wire``: a minimal HTTP/1.1 client, about a tenth of httpx's CPU per
request, so the load generator leaves the cores to the server it measures) or ``--client httpx`` (what runs before
2026-12-07 used; the environment variable ``BENCH_CLIENT`` sets the default, so ``bench.run`` can compare both).

Output: one JSON document (``--out`` or stdout) with p50/p95/p99 in milliseconds, requests/s and errors by
status. While running it prints ``@@phase NAME`` lines on stdout (flushed) so a driver can sample the
server's CPU at the boundaries of the measured window.

    .venv/bin/python -m bench.loadgen --mode hello --base-url http://127.0.0.1:8099 --users 50 --duration 5

Only loopback addresses are accepted as targets.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.cookiejar
import json
import os
import random
import resource
import ssl
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools
import httpx

from bench import wire

LOOPBACK = ("127.", "localhost", "[::1]", "::1")
SESSION_COOKIE = "st_session"
CSRF_COOKIE = "st_csrf"  # core.http: a browser keeps it (the server sets it when a request comes without it)
PASSWORD = "bench-storm-password-2026"  # bench.seed's
EMAIL = "user{i:05d}@bench.example.edu"  # bench.seed's
WORDS = [" evidence", " because", " however", " the argument", " shows", ", which", " therefore", " ÿ—😀 ", " 文字"]


# ---- statistics ----------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (so p50 <= p95 <= p99 always holds)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))  # ceil(q/100 * n)
    return sorted_values[rank - 1]


@dataclass
class Sample:
    group: str
    op: str
    start: float  # perf_counter seconds
    latency: float  # seconds
    status: str  # "200", "401", "timeout", "ConnectError", ...

    @property
    def ok(self) -> bool:
        return self.status.isdigit() and 200 <= int(self.status) < 400


def summarize(samples: list[Sample], window: float | None = None) -> dict[str, Any]:
    lat = sorted(s.latency * 1000 for s in samples)
    errors = Counter(s.status for s in samples if not s.ok)
    out: dict[str, Any] = {
        "requests": len(samples),
        "ok": len(samples) - sum(errors.values()),
        "errors": dict(sorted(errors.items())),
        "p50_ms": round(percentile(lat, 50), 2),
        "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2) if lat else 0.0,
        "mean_ms": round(sum(lat) / len(lat), 2) if lat else 0.0,
    }
    if window:
        out["window_s"] = round(window, 3)
        out["rps"] = round(len(samples) / window, 1) if window > 0 else 0.0
    return out


def timeline(samples: list[Sample], t0: float) -> list[list[float]]:
    """Per second of the window (by start time): [second, requests, p50 ms, max ms]; shows stalls that a p95 hides."""
    seconds: dict[int, list[float]] = {}
    for s in samples:
        seconds.setdefault(int(s.start - t0), []).append(s.latency * 1000)
    return [[k, len(v), round(percentile(sorted(v), 50), 1), round(max(v), 1)] for k, v in sorted(seconds.items())]


def by_op(samples: list[Sample]) -> dict[str, Any]:
    ops: dict[str, list[Sample]] = {}
    for s in samples:
        ops.setdefault(s.op, []).append(s)
    return {op: summarize(v) for op, v in sorted(ops.items())}


# ---- the virtual users -----------------------------------------------------------------------------------


@dataclass
class User:
    index: int
    email: str
    client: Any  # httpx.AsyncClient or wire.Client
    cookie: str | None = None
    csrf: str | None = None
    csrf_cookie: str | None = None  # the pre-session cookie a browser keeps and sends back with every request
    token: str | None = None
    admin: bool = False
    weights: list[tuple[str, str, int]] = field(default_factory=list)  # (op, path, weight)

    def headers(self, *, api: bool) -> dict[str, str]:
        if api and self.token:
            return {"authorization": f"Bearer {self.token}"}
        if not self.cookie:
            return {}
        jar = f"{SESSION_COOKIE}={self.cookie}"
        return {"cookie": f"{jar}; {CSRF_COOKIE}={self.csrf_cookie}" if self.csrf_cookie else jar}


def phase(name: str) -> None:
    print(f"@@phase {name} {time.perf_counter():.6f}", flush=True)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.samples: list[Sample] = []
        self.budget = args.max_requests
        # A jar that stores nothing: every virtual user sends its own credential explicitly.
        self._policy = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        self._ssl = ssl.create_default_context()  # built once: httpx would load the CA bundle per client
        self.clients: list[Any] = []

    def new_client(self) -> Any:
        """One client, one keep-alive HTTP/1.1 connection per virtual user (a user waits for each answer).

        A single shared client sized to all users would be simpler, but httpcore's pool scans every
        connection on every request: at 200 connections that costs the load generator ~10 ms of CPU per
        request (measured on this 2-core machine), which would steal the cores the server needs.
        """
        if self.args.client == "wire":
            self.clients.append(wire.Client(self.args.base_url, self.args.timeout))
            return self.clients[-1]
        client = httpx.AsyncClient(
            base_url=self.args.base_url,
            cookies=http.cookiejar.CookieJar(policy=self._policy),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=120),
            timeout=httpx.Timeout(self.args.timeout),
            http1=True,
            http2=False,
            verify=self._ssl,
            trust_env=False,  # never a proxy: traffic stays on the loopback
            follow_redirects=False,
        )
        self.clients.append(client)
        return client

    # -- one request --
    async def request(self, client: Any, group: str, op: str, method: str, path: str, **kw: Any) -> Any:
        """One request; its answer (``httpx.Response`` or ``wire.Reply``), or None when none came."""
        self.budget -= 1
        t0 = time.perf_counter()
        response = None
        try:
            response = await client.request(method, path, **kw)
            status = str(response.status_code)
        except (httpx.TimeoutException, TimeoutError):
            status = "timeout"
        except (httpx.HTTPError, OSError, httptools.HttpParserError) as exc:
            status = type(exc).__name__
        self.samples.append(Sample(group, op, t0, time.perf_counter() - t0, status))
        return response

    async def sign_in(self, group: str, user: User) -> bool:
        r = await self.request(
            user.client,
            group,
            "signin",
            "POST",
            f"/api/v1/tenants/{self.args.slug}/session",
            json={"email": user.email, "password": self.args.password},
        )
        if r is None or r.status_code != 200:
            return False
        user.cookie = r.cookies.get(SESSION_COOKIE)
        user.csrf = r.json().get("csrf_token")
        user.csrf_cookie = r.cookies.get(CSRF_COOKIE)
        return bool(user.cookie)

    async def create_token(self, user: User) -> None:
        r = await self.request(
            user.client,
            "setup",
            "token",
            "POST",
            "/api/v1/me/tokens",
            headers={**user.headers(api=False), "x-csrf-token": user.csrf or ""},
            json={"name": "bench", "scopes": ["read"], "expires_in_days": 1},
        )
        if r is not None and r.status_code == 201:
            user.token = r.json()["token"]

    # -- setup: sign every working user in (not part of the measured window) --
    async def setup_users(self, indices: range) -> tuple[list[User], bool]:
        a = self.args
        users = [
            User(i, a.email.format(i=i), self.new_client(), admin=a.admin_every > 0 and i % a.admin_every == 0)
            for i in indices
        ]
        gate = asyncio.Semaphore(self.args.setup_concurrency)

        async def one(u: User) -> None:
            async with gate:
                if await self.sign_in("setup", u) and a.token_every > 0 and u.index % a.token_every == 1:
                    await self.create_token(u)

        await asyncio.gather(*(one(u) for u in users))
        signed = [u for u in users if u.cookie]
        home = False
        if self.args.pages != "no" and signed:
            first = signed[0]
            r = await self.request(
                first.client, "setup", "home-probe", "GET", "/home", headers=first.headers(api=False)
            )
            home = r is not None and r.status_code == 200
            if self.args.pages == "yes" and not home:
                home = True  # measure it anyway: its errors will show
        for u in signed:
            w = [("me", "/api/v1/me", 35), ("tenant", "/api/v1/tenant", 25), ("tokens", "/api/v1/me/tokens", 25)]
            if home:
                w.append(("home", "/home", 15))
            if u.admin:
                w.append(("members", "/api/v1/members?limit=50", 10))
            u.weights = w
        return signed, home

    async def work(self, group: str, user: User, stop: dict[str, float], think: float) -> None:
        """Read until ``stop["at"]`` (perf_counter; it may move) or the request budget runs out."""
        ops = [(op, path) for op, path, _ in user.weights]
        weights = [w for _, _, w in user.weights]
        rng = random.Random(self.args.seed * 100_003 + user.index)
        if think > 0:  # start spread out, not as one wave
            await asyncio.sleep(max(0.0, min(rng.uniform(0, think), stop["at"] - time.perf_counter())))
        while time.perf_counter() < stop["at"] and self.budget > 0:
            op, path = rng.choices(ops, weights)[0]
            await self.request(user.client, group, op, "GET", path, headers=user.headers(api=op != "home"))
            if think > 0:
                pause = think * rng.uniform(0.5, 1.5)
                await asyncio.sleep(max(0.0, min(pause, stop["at"] - time.perf_counter())))

    # -- modes --
    async def hello(self) -> dict[str, Any]:
        a = self.args
        phase("measure-start")
        t0 = time.perf_counter()
        stop = t0 + a.duration

        async def loop(i: int) -> None:
            rng = random.Random(a.seed * 100_003 + i)
            client = self.new_client()
            while time.perf_counter() < stop and self.budget > 0:
                await self.request(client, "hello", "get", "GET", a.path)
                if a.think > 0:
                    await asyncio.sleep(max(0.0, min(a.think * rng.uniform(0.5, 1.5), stop - time.perf_counter())))

        await asyncio.gather(*(loop(i) for i in range(a.users)))
        t1 = time.perf_counter()
        phase("measure-end")
        main = summarize(self.samples, t1 - t0)
        return {"main": main}

    async def read(self) -> dict[str, Any]:
        a = self.args
        phase("setup-start")
        users, home = await self.setup_users(range(a.users))
        setup = [s for s in self.samples if s.group == "setup"]
        phase("measure-start")
        t0 = time.perf_counter()
        stop = {"at": t0 + a.duration}
        await asyncio.gather(*(self.work("read", u, stop, a.think) for u in users))
        t1 = time.perf_counter()
        phase("measure-end")
        measured = [s for s in self.samples if s.group == "read"]
        return {
            "main": {**summarize(measured, t1 - t0), "by_op": by_op(measured), "timeline": timeline(measured, t0)},
            "setup": {**summarize(setup), "signed_in": len(users), "by_op": by_op(setup)},
            "home_page": home,
            "working_users": len(users),
        }

    async def storm(self) -> dict[str, Any]:
        a = self.args
        phase("setup-start")
        users, home = await self.setup_users(range(a.users))
        setup = [s for s in self.samples if s.group == "setup"]
        phase("measure-start")
        t0 = time.perf_counter()
        hard_stop = t0 + a.storm_delay + a.storm_timeout + a.tail
        stop = {"at": hard_stop}  # moves to storm end + tail once the last sign-in has answered
        storm_users = [User(i, a.email.format(i=i), self.new_client()) for i in range(a.users, a.users + a.storm_users)]
        marks: dict[str, float] = {}

        async def one_signin(k: int, u: User) -> None:
            await asyncio.sleep(
                max(0.0, marks["storm_start"] + k * a.storm_spread / max(1, a.storm_users) - time.perf_counter())
            )
            await self.sign_in("storm", u)

        async def storm() -> None:
            await asyncio.sleep(a.storm_delay)
            marks["storm_start"] = time.perf_counter()
            phase("storm-start")
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(one_signin(k, u) for k, u in enumerate(storm_users))), timeout=a.storm_timeout
                )
                marks["timed_out"] = 0.0
            except TimeoutError:
                marks["timed_out"] = 1.0
            signins = [s for s in self.samples if s.group == "storm"]
            marks["storm_end"] = max((s.start + s.latency for s in signins), default=time.perf_counter())
            phase("storm-end")
            stop["at"] = min(hard_stop, time.perf_counter() + a.tail)

        await asyncio.gather(storm(), *(self.work("working", u, stop, a.think) for u in users))
        t1 = time.perf_counter()
        phase("measure-end")
        s0, s1 = marks["storm_start"], marks["storm_end"]
        working = [s for s in self.samples if s.group == "working"]
        during = [s for s in working if s0 <= s.start <= s1]
        before = [s for s in working if s.start < s0]
        signins = [s for s in self.samples if s.group == "storm"]
        sign_ok = sum(1 for s in signins if s.ok)
        return {
            "main": {**summarize(during, s1 - s0), "by_op": by_op(during)},
            "working_before_storm": summarize(before, s0 - t0),
            "working_overall": summarize(working, t1 - t0),
            "storm": {
                "users": a.storm_users,
                "spread_s": a.storm_spread,
                "completion_s": round(s1 - s0, 3),
                "timed_out": bool(marks["timed_out"]),
                "signed_in": sign_ok,
                "failures": a.storm_users - sign_ok,
                "signin": summarize(signins, s1 - s0),
            },
            "setup": {**summarize(setup), "signed_in": len(users), "by_op": by_op(setup)},
            "home_page": home,
            "working_users": len(users),
        }

    # -- class writing --
    async def open_document(self, user: User) -> dict[str, Any] | None:
        path = f"/api/v1/assignments/{self.args.assignment}/document"
        r = await self.request(
            user.client,
            "setup",
            "open",
            "POST",
            path,
            headers={**user.headers(api=False), "x-csrf-token": user.csrf or ""},
        )
        if r is None or r.status_code not in (200, 201):
            return None
        doc = r.json()
        return {
            "id": doc["id"],
            "revision": doc["revision"],
            "text": doc["text"],
            "seq": 0,
            "session": str(uuid.uuid4()),
        }

    async def send_batch(self, group: str, user: User, doc: dict[str, Any], rng: random.Random) -> None:
        word = rng.choice(WORDS)
        text = doc["text"] + word
        body = {
            "session_id": doc["session"],
            "seq": doc["seq"] + 1,
            "base_revision": doc["revision"],
            "ops": [{"kind": "insert", "pos": len(doc["text"]), "text": word, "t": int(time.time() * 1000)}],
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
        }
        r = await self.request(
            user.client,
            group,
            "batch",
            "POST",
            f"/api/v1/documents/{doc['id']}/batches",
            headers={**user.headers(api=False), "x-csrf-token": user.csrf or ""},
            json=body,
        )
        if r is not None and r.status_code == 200:
            doc.update(seq=doc["seq"] + 1, revision=r.json()["revision"], text=text)
        elif r is not None and r.status_code == 409 and r.json().get("error") == "StaleRevision":
            cur = r.json()["current"]
            doc.update(revision=cur["revision"], text=cur["text"])

    async def reload(self, group: str, user: User, doc: dict[str, Any]) -> None:
        r = await self.request(
            user.client, group, "reload", "GET", f"/api/v1/documents/{doc['id']}", headers=user.headers(api=False)
        )
        if r is not None and r.status_code == 200:
            body = r.json()
            doc.update(revision=body["revision"], text=body["text"])

    async def write_loop(self, group: str, user: User, doc: dict[str, Any] | None, stop: float) -> None:
        a = self.args
        rng = random.Random(a.seed * 100_003 + user.index)
        if a.think > 0:
            await asyncio.sleep(rng.uniform(0, a.think))
        n = 0
        while time.perf_counter() < stop and self.budget > 0:
            n += 1
            if doc is None:  # an admin: the educator's submissions list
                await self.request(
                    user.client,
                    group,
                    "list",
                    "GET",
                    f"/api/v1/assignments/{a.assignment}/submissions",
                    headers=user.headers(api=False),
                )
            elif a.reload_every and n % a.reload_every == 0:
                await self.reload(group, user, doc)
            else:
                await self.send_batch(group, user, doc, rng)
            if a.think > 0:
                await asyncio.sleep(max(0.0, min(a.think * rng.uniform(0.5, 1.5), stop - time.perf_counter())))

    async def probe(self, pairs: list[tuple[User, dict[str, Any], str]]) -> dict[str, Any]:
        """``--probe-batches`` sequential batches to each document, alternating between them, so whatever else the
        server does meanwhile (the setup's after-effects, periodic jobs) falls on both alike."""
        rngs = {label: random.Random(7) for _, _, label in pairs}
        for user, doc, _ in pairs:
            await self.reload("probe", user, doc)
        before = len(self.samples)
        for _ in range(self.args.probe_batches):
            for user, doc, label in pairs:
                await self.send_batch(f"probe-{label}", user, doc, rngs[label])
        out = {}
        for _, doc, label in pairs:
            mine = [s for s in self.samples[before:] if s.group == f"probe-{label}"]
            out[label] = {**summarize(mine), "chars": len(doc["text"])}
        return out

    async def writing(self) -> dict[str, Any]:
        a = self.args
        phase("setup-start")
        users, _home = await self.setup_users(range(a.users))
        gate = asyncio.Semaphore(a.setup_concurrency)
        docs: dict[int, dict[str, Any] | None] = {}

        async def open_one(u: User) -> None:
            async with gate:
                docs[u.index] = None if u.admin else await self.open_document(u)
                doc = docs[u.index]
                if doc is not None:  # the editor's first batch after opening: a class already at work is measured
                    await self.send_batch("setup", u, doc, random.Random(u.index))

        await asyncio.gather(*(open_one(u) for u in users))
        setup = [s for s in self.samples if s.group == "setup"]
        long_probe: dict[str, Any] | None = None
        if a.long_doc_email:
            owner = User(-1, a.long_doc_email, self.new_client())
            fresh = next((u for u in users if not u.admin and docs.get(u.index) and u.email != a.long_doc_email), None)
            if await self.sign_in("setup", owner) and fresh is not None:
                long_doc = await self.open_document(owner)
                new_doc = await self.open_document(
                    User(-2, fresh.email, fresh.client, fresh.cookie, fresh.csrf, fresh.csrf_cookie)
                )
                if long_doc and new_doc:
                    new_doc["session"] = str(uuid.uuid4())
                    long_probe = await self.probe([(owner, long_doc, "long"), (fresh, new_doc, "new")])
                    long_probe["p50_ratio_long_over_new"] = round(
                        long_probe["long"]["p50_ms"] / max(0.001, long_probe["new"]["p50_ms"]), 3
                    )
                    docs[fresh.index] = new_doc  # their states are current; the measured window goes on from them
                    for u in users:
                        if u.email == a.long_doc_email:
                            docs[u.index] = long_doc
        phase("measure-start")
        t0 = time.perf_counter()
        stop = t0 + a.duration
        await asyncio.gather(
            *(self.write_loop("writing", u, docs.get(u.index), stop) for u in users if u.admin or docs.get(u.index))
        )
        t1 = time.perf_counter()
        phase("measure-end")
        measured = [s for s in self.samples if s.group == "writing"]
        return {
            "main": {**summarize(measured, t1 - t0), "by_op": by_op(measured), "timeline": timeline(measured, t0)},
            "setup": {**summarize(setup), "signed_in": len(users), "by_op": by_op(setup)},
            "students_writing": sum(1 for d in docs.values() if d),
            "educators": sum(1 for u in users if u.admin),
            "long_document_probe": long_probe,
            "working_users": len(users),
        }

    async def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            result = await getattr(self, self.args.mode)()
        finally:
            await asyncio.gather(*(c.aclose() for c in self.clients), return_exceptions=True)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result.update(
            mode=self.args.mode,
            client=self.args.client,
            base_url=self.args.base_url,
            users=self.args.users,
            think_s=self.args.think,
            duration_s=self.args.duration,
            wall_s=round(time.perf_counter() - started, 3),
            loadgen_cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
            budget_exhausted=self.budget <= 0,
        )
        for k in ("rps", "p50_ms", "p95_ms", "p99_ms"):  # the headline numbers at the top level
            result[k] = result["main"].get(k, 0.0)
        return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["hello", "read", "storm", "writing"], required=True)
    p.add_argument("--base-url", required=True, help="http://127.0.0.1:PORT (loopback only)")
    p.add_argument("--users", type=int, default=200, help="virtual users (working users in storm mode)")
    p.add_argument("--duration", type=float, default=30.0, help="measured seconds (hello, read)")
    p.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause between a user's requests, seconds (each pause is uniform in [0.5, 1.5] x this)",
    )
    p.add_argument("--max-requests", type=int, default=5_000_000, help="request budget: stop when spent")
    p.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--path", default="/", help="hello mode: the path to GET")
    p.add_argument("--slug", default="bench")
    p.add_argument("--password", default=PASSWORD)
    p.add_argument("--email", default=EMAIL, help="format string with {i}")
    p.add_argument("--admin-every", type=int, default=20, help="as bench.seed: every k-th user is an admin")
    p.add_argument(
        "--token-every", type=int, default=4, help="users with index %% k == 1 read with a Bearer token (0: nobody)"
    )
    p.add_argument(
        "--pages",
        choices=["auto", "yes", "no"],
        default="auto",
        help="include GET /home in the mix: auto = only if it answers 200",
    )
    p.add_argument("--setup-concurrency", type=int, default=16, help="parallel sign-ins during setup")
    p.add_argument("--storm-users", type=int, default=500)
    p.add_argument("--storm-spread", type=float, default=3.0, help="seconds over which storm sign-ins start")
    p.add_argument("--storm-delay", type=float, default=5.0, help="working-only seconds before the storm")
    p.add_argument("--storm-timeout", type=float, default=120.0, help="give up on the storm after this long")
    p.add_argument("--tail", type=float, default=3.0, help="working seconds after the storm ends")
    p.add_argument("--assignment", help="writing mode: the assignment id (bench.seed --course prints it)")
    p.add_argument("--reload-every", type=int, default=20, help="writing mode: one reload in k batches (0: never)")
    p.add_argument("--long-doc-email", help="writing mode: the owner of the long document (bench.seed prints it)")
    p.add_argument("--probe-batches", type=int, default=300, help="writing mode: batches per long/new probe")
    p.add_argument(
        "--client",
        choices=["wire", "httpx"],
        default=os.environ.get("BENCH_CLIENT", "wire"),
        help="HTTP client of the virtual users (module docstring)",
    )
    p.add_argument("--out", help="write the JSON here (default: stdout)")
    args = p.parse_args(argv)
    host = urlsplit(args.base_url).hostname or ""
    if not (host.startswith(LOOPBACK) or host in LOOPBACK):
        p.error("--base-url must be a loopback address (127.0.0.1, localhost, [::1])")
    if args.duration <= 0 or args.duration > 3600 or args.storm_timeout > 3600:
        p.error("durations must be positive and at most an hour")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        import uvloop  # the client's own overhead competes with the server for the same cores

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    result = asyncio.run(Run(args).run())
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    else:
        print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
