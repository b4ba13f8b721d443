"""Run the Scribe Tree benchmarks: the hello ceiling, then each scenario on each database, N times.

    .venv/bin/python -m bench.run --db sqlite|postgresql|both --scenario a|b|all [--quick] [--repeat 3]

For every (scenario, database) it makes a fresh database (a temporary SQLite folder, or a new PostgreSQL
database that is dropped afterwards), migrates it (``scribetree init``), seeds it (``bench.seed``), starts
``scribetree serve`` (uvicorn, one process) on a free 127.0.0.1 port, runs ``bench.loadgen`` in its own
process, samples the SERVER process's CPU seconds (/proc/PID/stat utime+stime, every thread: the argon2
threads too) at the loadgen's phase marks and its peak RSS (/proc/PID/status VmHWM), and stops it.
The hello app (``bench.hello_app``) is measured the same way at the start of every repetition.

Prints a Markdown row per run, then a table of medians (with min-max) when ``--repeat`` > 1, and writes
everything to ``bench/results/<timestamp>.json`` (gitignored). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
VENV_BIN = Path(sys.executable).parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SLUG = "bench"


# ---- the server process ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` (psutil is not in the app's venv; /proc says the same)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5), after pid and comm


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU seconds of the main thread alone: the event loop (the rest is DB-driver and hashing threads)."""
    try:
        return cpu_seconds_of(f"/proc/{pid}/task/{pid}/stat")
    except OSError:
        return 0.0


def cpu_seconds_of(stat_path: str) -> float:
    with open(stat_path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    return out


@dataclass
class Server:
    name: str
    cmd: list[str]
    env: dict[str, str]
    ready_path: str
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.url + self.ready_path).status_code == 200:
                        return
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        if self.proc is None:
            return stats
        if self.proc.poll() is not None:  # it died under load: say so loudly
            stats["died_with"] = self.proc.returncode
            print(
                f"!! {self.name} died during the run with exit status {self.proc.returncode}; log: {self.log_path}",
                file=sys.stderr,
                flush=True,
            )
        else:
            with contextlib.suppress(OSError):
                stats = {"cpu_s_total": round(cpu_seconds(self.proc.pid), 3), **memory_kib(self.proc.pid)}
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return stats


# ---- databases -----------------------------------------------------------------------------------------


def base_env(data_dir: Path, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBETREE_")}  # nothing inherited by accident
    env.update(
        SCRIBETREE_ENV="development",
        SCRIBETREE_DATA_DIR=str(data_dir),
        SCRIBETREE_DATABASE_URL=database_url,
        SCRIBETREE_REDIS_URL="",
        SCRIBETREE_RATE_LIMIT_ENABLED="false",  # every bench client is 127.0.0.1: per-IP sign-in limits off
        SCRIBETREE_LOG_LEVEL="WARNING",
        SCRIBETREE_LOG_JSON="false",
    )
    env.update(extra)  # --set KEY=VALUE and --hash-concurrency; argon2 stays at the OWASP defaults
    return env


@contextlib.contextmanager
def database(kind: str, tag: str) -> Iterator[tuple[Path, str]]:
    """A fresh, empty database and data folder; removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"scribetree-bench-{kind}-"))
    try:
        if kind == "sqlite":
            yield data_dir, ""
            return
        import psycopg

        name = f"scribetree_bench_{tag}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield data_dir, PG_APP_URL.format(db=name)
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def check(cmd: list[str], env: dict[str, str], what: str, timeout: float = 300) -> str:
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return r.stdout


# ---- one measured run ------------------------------------------------------------------------------------


class Profiler:
    """Optional: ``py-spy record`` on the server between two phase marks (collapsed stacks, all threads; with
    ``BENCH_PY_SPY_FORMAT=speedscope`` a speedscope file instead, whose samples keep their order in time)."""

    def __init__(self, py_spy: str | None, out: Path, start: str, stop: str) -> None:
        self.py_spy, self.out, self.start_mark, self.stop_mark = py_spy, out, start, stop
        self.proc: subprocess.Popen[bytes] | None = None

    def on_phase(self, name: str, pid: int) -> None:
        if not self.py_spy:
            return
        if name == self.start_mark:
            self.proc = subprocess.Popen(
                [
                    self.py_spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "200",
                    "--threads",
                    "--idle",
                    "--format",
                    os.environ.get("BENCH_PY_SPY_FORMAT", "raw"),
                    "--output",
                    str(self.out),
                    "--duration",
                    "600",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        elif name == self.stop_mark and self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_loadgen(
    server: Server, args: list[str], out: Path, wall_limit: float, profiler: Profiler | None = None
) -> tuple[dict[str, Any], dict]:
    """Run bench.loadgen against ``server``; sample the server's CPU at every ``@@phase`` line."""
    assert server.proc is not None
    marks: dict[str, dict[str, float]] = {}
    cmd = [sys.executable, "-m", "bench.loadgen", "--base-url", server.url, "--out", str(out), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ})
    deadline = time.monotonic() + wall_limit
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("@@phase "):
                name = line.split()[1]
                marks[name] = {
                    "t": time.perf_counter(),
                    "cpu": cpu_seconds(server.proc.pid),
                    "loop_cpu": main_thread_cpu_seconds(server.proc.pid),
                    **{k: float(v) for k, v in memory_kib(server.proc.pid).items()},
                }
                if name.startswith("measure-"):
                    marks[name]["batch_hist"], marks[name]["gc"] = scrape(server.url)  # type: ignore[assignment]
                if profiler is not None:
                    profiler.on_phase(name, server.proc.pid)
            if time.monotonic() > deadline:
                raise TimeoutError("the load generator ran past its wall-clock limit")
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen exited with {proc.returncode}")
    return json.loads(out.read_text()), marks


BATCH_ROUTE = 'method="POST",route="/api/v1/documents/{document_id}/batches"'


def scrape(base_url: str) -> tuple[dict[str, float], dict[str, float]]:
    """From the server's /metrics: its own latency histogram of the batch route (cumulative count per bucket bound:
    the time from the app receiving a batch to its answer, whatever the load generator's own delays), and its
    garbage-collector figures (``scribetree_gc_*`` samples by name, core.gcpolicy)."""
    import urllib.request

    try:
        with urllib.request.urlopen(base_url + "/metrics", timeout=30) as r:
            text = r.read().decode()
    except OSError:
        return {}, {}
    hist: dict[str, float] = {}
    gc: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("scribetree_http_request_duration_seconds_bucket{") and BATCH_ROUTE in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            hist[le] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("scribetree_gc_"):
            sample, value = line.rsplit(" ", 1)
            gc[sample] = float(value)
    return hist, gc


def gc_window(marks: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Full (generation 2) collections in the measured window, the seconds the server stood still in collections of
    any generation meanwhile, the longest full collection since start, and the objects frozen at start-up."""
    a, b = marks.get("measure-start", {}).get("gc"), marks.get("measure-end", {}).get("gc")
    if not a or not b:
        return None
    full = 'scribetree_gc_collections{generation="2"}'
    paused = sum(b[k] - a.get(k, 0.0) for k in b if k.startswith("scribetree_gc_pause_seconds{"))
    return {
        "full_collections": int(b.get(full, 0.0) - a.get(full, 0.0)),
        "paused_ms": round(paused * 1000, 1),
        "longest_full_ms": round(b.get('scribetree_gc_longest_pause_seconds{generation="2"}', 0.0) * 1000, 1),
        "frozen_objects": int(b.get("scribetree_gc_frozen_objects", 0.0)),
    }


def server_latency(marks: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Batches answered in the measured window by the server's clock: the share within 50 ms and the bucket
    bound under which 95 % fall (an upper bound of the server-side p95; bucket resolution)."""
    a = marks.get("measure-start", {}).get("batch_hist") or {}  # empty: no batch answered yet
    b = marks.get("measure-end", {}).get("batch_hist")
    if not b:
        return None
    delta = {le: b[le] - a.get(le, 0.0) for le in b}
    total = delta.get("+Inf", 0.0)
    if not total:
        return None
    bounds = sorted((float(le), n) for le, n in delta.items() if le != "+Inf")
    p95 = next((le for le, n in bounds if n >= 0.95 * total), None)
    within = delta.get("0.05", 0.0) / total
    return {"batches": int(total), "within_50ms": round(within, 4), "p95_ms_at_most": p95 * 1000 if p95 else None}


def cpu_between(marks: dict[str, dict[str, float]], a: str, b: str) -> tuple[float, float]:
    """(server CPU seconds, wall seconds) between two phase marks."""
    return marks[b]["cpu"] - marks[a]["cpu"], marks[b]["t"] - marks[a]["t"]


def core_use(marks: dict[str, dict[str, float]], a: str, b: str) -> dict[str, float]:
    """Cores used between two marks: the whole server, its event-loop thread, and every other thread."""
    wall = marks[b]["t"] - marks[a]["t"]
    total = (marks[b]["cpu"] - marks[a]["cpu"]) / wall
    loop = (marks[b]["loop_cpu"] - marks[a]["loop_cpu"]) / wall
    return {
        "server_cores": round(total, 2),
        "loop_thread_cores": round(loop, 2),
        "other_threads_cores": round(total - loop, 2),
    }


@dataclass
class Plan:
    users: int
    duration: float
    think_b: float
    storm_users: int
    storm_spread: float
    storm_delay: float
    extra_env: dict[str, str]
    workdir: Path
    probe: bool = False
    py_spy: str | None = None
    writers: dict[str, int] = field(default_factory=lambda: {"sqlite": 500, "postgresql": 1000})
    think_c: float = 2.0
    users_d: int = 100
    long_doc_words: int = 20_000
    long_doc_events: int = 100_000


def measure_hello(plan: Plan) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBETREE_")}
    server = Server(
        "hello",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.hello_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--no-access-log",
            "--log-level",
            "warning",
            "--proxy-headers",
        ],
        env,
        "/",
        plan.workdir / "hello.log",
    )
    server.start()
    try:
        lg, marks = run_loadgen(
            server,
            ["--mode", "hello", "--users", str(plan.users), "--duration", str(plan.duration)],
            plan.workdir / "hello.json",
            plan.duration + 120,
        )
    finally:
        final = server.stop()
    cpu, _ = cpu_between(marks, "measure-start", "measure-end")
    return row("hello", "-", lg["main"], cpu, final, lg, marks)


def measure_app(scenario: str, db: str, plan: Plan, tag: str) -> dict[str, Any]:
    with database(db, tag) as (data_dir, url):
        env = base_env(data_dir, url, plan.extra_env)
        check([str(VENV_BIN / "scribetree"), "init"], env, "scribetree init")
        if scenario in ("c", "d"):
            # writers + one educator (institution admin) per 20; c also seeds the long document for the probe
            n = plan.writers[db] if scenario == "c" else plan.users_d
            seed_args = ["--users", str(n), "--course"]
            if scenario == "c":
                seed_args += [
                    "--long-doc-words",
                    str(plan.long_doc_words),
                    "--long-doc-events",
                    str(plan.long_doc_events),
                ]
        else:
            n = plan.users + plan.storm_users + 10
            seed_args = ["--users", str(n)]
        seeded = json.loads(
            check([sys.executable, "-m", "bench.seed", *seed_args, "--slug", SLUG], env, "bench.seed", timeout=900)
            .strip()
            .splitlines()[-1]
        )
        probe_file = plan.workdir / f"probe-{scenario}-{db}-{tag}.jsonl"
        cmd = (
            [sys.executable, "-m", "bench.pool_probe", "--port", "{port}", "--out", str(probe_file)]
            if plan.probe
            else [str(VENV_BIN / "scribetree"), "serve", "--host", "127.0.0.1", "--port", "{port}", "--no-migrate"]
        )
        server = Server(f"scribetree-{db}", cmd, env, "/healthz", plan.workdir / f"server-{scenario}-{db}-{tag}.log")
        server.start()
        out = plan.workdir / f"loadgen-{scenario}-{db}-{tag}.json"
        try:
            window = ("storm-start", "storm-end") if scenario == "b" else ("measure-start", "measure-end")
            profiler = Profiler(plan.py_spy, plan.workdir / f"profile-{scenario}-{db}-{tag}.txt", *window)
            if scenario == "a":
                lg, marks = run_loadgen(
                    server,
                    ["--mode", "read", "--users", str(plan.users), "--duration", str(plan.duration), "--slug", SLUG],
                    out,
                    plan.duration + 600,
                    profiler,
                )
                cpu, _ = cpu_between(marks, "measure-start", "measure-end")
            elif scenario in ("c", "d"):
                writing = [
                    "--mode",
                    "writing",
                    "--users",
                    str(n),
                    "--duration",
                    str(plan.duration),
                    "--slug",
                    SLUG,
                    "--assignment",
                    seeded["assignment_id"],
                    "--setup-concurrency",
                    "32",
                    "--think",
                    str(plan.think_c if scenario == "c" else 0.0),
                ]
                if scenario == "c" and seeded.get("long_doc_email"):
                    writing += ["--long-doc-email", seeded["long_doc_email"]]
                lg, marks = run_loadgen(server, writing, out, plan.duration + 900, profiler)
                cpu, _ = cpu_between(marks, "measure-start", "measure-end")
            else:
                lg, marks = run_loadgen(
                    server,
                    [
                        "--mode",
                        "storm",
                        "--users",
                        str(plan.users),
                        "--think",
                        str(plan.think_b),
                        "--storm-users",
                        str(plan.storm_users),
                        "--storm-spread",
                        str(plan.storm_spread),
                        "--storm-delay",
                        str(plan.storm_delay),
                        "--slug",
                        SLUG,
                    ],
                    out,
                    900,
                    profiler,
                )
                cpu, _ = cpu_between(marks, "storm-start", "storm-end")
        finally:
            final = server.stop()
        r = row(scenario, db, lg["main"], cpu, final, lg, marks)
        r["settings"] = seeded["settings"]
        r["cores"] = core_use(marks, *window)
        if scenario in ("c", "d"):
            r["server_batch_latency"] = server_latency(marks)
            print("   server-side batch latency:", json.dumps(r["server_batch_latency"]), flush=True)
            r["gc"] = gc_window(marks)
            print("   garbage collector:", json.dumps(r["gc"]), flush=True)
            r["timeline"] = lg["main"].get("timeline", [])  # [second, requests, p50 ms, max ms]
            slow = [t for t in r["timeline"] if t[3] > 1000]
            print(
                f"   seconds of the window with a request over 1 s: {len(slow)} of {len(r['timeline'])}"
                + (f" (first: {slow[:5]})" if slow else ""),
                flush=True,
            )
        if scenario == "b":
            r["cores_before_storm"] = core_use(marks, "measure-start", "storm-start")
        print("   cores:", json.dumps({k: v for k, v in r.items() if k.startswith("cores")}), flush=True)
        if final.get("died_with") is not None:
            r["errors"]["server-died"] = 1
        if plan.probe:
            from bench.pool_probe import summarize

            r["probe"] = {"window": summarize(str(probe_file), marks[window[0]]["t"], marks[window[1]]["t"])}
            if scenario == "b":
                r["probe"]["before_storm"] = summarize(
                    str(probe_file), marks["measure-start"]["t"], marks["storm-start"]["t"]
                )
            print("   probe:", json.dumps(r["probe"]), flush=True)
        return r


def row(
    scenario: str,
    db: str,
    main: dict[str, Any],
    cpu: float,
    final: dict[str, Any],
    lg: dict[str, Any],
    marks: dict[str, dict[str, float]],
) -> dict[str, Any]:
    requests = main["requests"]
    storm = lg.get("storm")
    if storm:  # the storm window holds the working users' reads and every sign-in
        requests += storm["signin"]["requests"]
    errors = dict(main["errors"])
    return {
        "scenario": scenario,
        "db": db,
        "p50_ms": main["p50_ms"],
        "p95_ms": main["p95_ms"],
        "p99_ms": main["p99_ms"],
        "rps": main.get("rps", 0.0),
        "requests": main["requests"],
        "errors": errors,
        "server_cpu_s": round(cpu, 3),
        "cpu_ms_per_req": round(cpu * 1000 / requests, 2) if requests else None,
        "peak_rss_mb": round(final.get("VmHWM", 0) / 1024, 1),
        "storm_s": storm["completion_s"] if storm else None,
        "signin_p50_ms": storm["signin"]["p50_ms"] if storm else None,
        "signin_p95_ms": storm["signin"]["p95_ms"] if storm else None,
        "signin_p99_ms": storm["signin"]["p99_ms"] if storm else None,
        "signin_failures": storm["failures"] if storm else None,
        "signin_errors": storm["signin"]["errors"] if storm else None,
        "home_page": lg.get("home_page"),
        "long_doc_ratio": (lg.get("long_document_probe") or {}).get("p50_ratio_long_over_new"),
        "loadgen_cpu_s": lg.get("loadgen_cpu_s"),
        "loadgen": lg,
        "marks": marks,
    }


# ---- tables ----------------------------------------------------------------------------------------------

HEADER = (
    "| scenario | db | p50 ms | p95 ms | p99 ms | req/s | vs hello | CPU ms/req | peak RSS MB | storm s "
    "| sign-in p50/p95/p99 ms | sign-in fails | errors |"
)
RULE = "|" + "|".join(["---"] * (HEADER.count("|") - 1)) + "|"


LABELS = {
    "hello": "hello (ceiling)",
    "a": "a: reads",
    "b": "b: storm (working users)",
    "c": "c: class writing (think 2 s)",
    "d": "d: class writing, no think time",
}


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def markdown_row(r: dict[str, Any], hello_rps: float | None) -> str:
    ratio = f"{r['rps'] / hello_rps:.2f}" if hello_rps and r["scenario"] in ("a", "d") else "-"
    if r["scenario"] == "hello":
        ratio = "1.00"
    signin = (
        "-"
        if r["storm_s"] is None
        else f"{fmt(r['signin_p50_ms'])} / {fmt(r['signin_p95_ms'])} / {fmt(r['signin_p99_ms'])}"
    )
    errors = ", ".join(f"{k}x{v}" for k, v in (r["errors"] or {}).items()) or "0"
    label = LABELS[r["scenario"]]
    cpu = "-" if r["cpu_ms_per_req"] is None else f"{r['cpu_ms_per_req']:.2f}"
    return (
        f"| {label} | {r['db']} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | "
        f"{fmt(r['rps'])} | {ratio} | {cpu} | {fmt(r['peak_rss_mb'])} | {fmt(r['storm_s'])} | "
        f"{signin} | {fmt(r['signin_failures'])} | {errors} |"
    )


MEDIAN_KEYS = (
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "rps",
    "cpu_ms_per_req",
    "peak_rss_mb",
    "storm_s",
    "signin_p50_ms",
    "signin_p95_ms",
    "signin_p99_ms",
    "signin_failures",
    "ratio",
    "long_doc_ratio",
)


def medians(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["db"]), []).append(r)
    out = []
    for (scenario, db), rs in groups.items():
        m: dict[str, Any] = {"scenario": scenario, "db": db, "runs": len(rs)}
        for k in MEDIAN_KEYS:
            vals = [r[k] for r in rs if r.get(k) is not None]
            if vals:
                m[k] = statistics.median(vals)
                m[k + "_min"], m[k + "_max"] = min(vals), max(vals)
            else:
                m[k] = None
        errs: dict[str, int] = {}
        for r in rs:
            for e, n in (r["errors"] or {}).items():
                errs[e] = errs.get(e, 0) + n
        m["errors_total"] = errs
        out.append(m)
    return out


def spread(m: dict[str, Any], k: str, digits: int = 0) -> str:
    if m.get(k) is None:
        return "-"
    f = f"{{:.{digits}f}}"
    if m["runs"] == 1 or m[k + "_min"] == m[k + "_max"]:
        return f.format(m[k])
    return f"{f.format(m[k])} ({f.format(m[k + '_min'])}-{f.format(m[k + '_max'])})"


MEDIAN_HEADER = (
    "| scenario | db | runs | p50 ms | p95 ms | p99 ms | req/s | app/hello | CPU ms/req | peak RSS MB "
    "| storm s | sign-in p50 ms | sign-in p95 ms | sign-in p99 ms | sign-in fails | errors (all runs) |"
)


def median_row(m: dict[str, Any]) -> str:
    label = LABELS[m["scenario"]]
    errors = ", ".join(f"{k}x{v}" for k, v in m["errors_total"].items()) or "0"
    return (
        f"| {label} | {m['db']} | {m['runs']} | {spread(m, 'p50_ms')} | {spread(m, 'p95_ms')} | "
        f"{spread(m, 'p99_ms')} | {spread(m, 'rps')} | {spread(m, 'ratio', 2)} | "
        f"{spread(m, 'cpu_ms_per_req', 2)} | {spread(m, 'peak_rss_mb')} | {spread(m, 'storm_s', 1)} | "
        f"{spread(m, 'signin_p50_ms')} | {spread(m, 'signin_p95_ms')} | {spread(m, 'signin_p99_ms')} | "
        f"{spread(m, 'signin_failures')} | {errors} |"
    )


def machine() -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "git_head": git.stdout.strip(),
        "src_uncommitted_changes": bool(dirty.stdout.strip()),
    }


# ---- main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument(
        "--scenario",
        choices=["a", "b", "c", "d", "all", "writing"],
        default="all",
        help="all = a and b (issue 2); writing = c and d (issue 3)",
    )
    p.add_argument("--quick", action="store_true", help="8 s instead of 30 s for (a) and the hello ceiling")
    p.add_argument("--repeat", type=int, default=1, help="run everything this many times; report medians")
    p.add_argument("--users", type=int, default=200, help="virtual users in (a), working users in (b), hello")
    p.add_argument("--duration", type=float, help="seconds for (a) and hello (default 30, --quick 8)")
    p.add_argument(
        "--think-b",
        type=float,
        default=2.0,
        help="working users' mean think time in (b): 2 s is the "
        "editor's batch cadence, so 200 working users offer ~100 req/s; 0.5 s offers ~400 req/s, more than "
        "one process serves (scenario a), and measures overload instead",
    )
    p.add_argument("--storm-users", type=int, default=500)
    p.add_argument("--writers-sqlite", type=int, default=500, help="students writing in (c) on SQLite")
    p.add_argument("--writers-postgresql", type=int, default=1000, help="students writing in (c) on PostgreSQL")
    p.add_argument("--users-d", type=int, default=100, help="students writing with no think time in (d)")
    p.add_argument("--long-doc-events", type=int, default=100_000, help="(c) probe: past batches of the long doc")
    p.add_argument("--storm-spread", type=float, default=3.0)
    p.add_argument("--hash-concurrency", type=int, help="SCRIBETREE_PASSWORD_HASH_CONCURRENCY (app default: 2)")
    p.add_argument(
        "--set", action="append", default=[], metavar="SCRIBETREE_KEY=VALUE", help="extra server setting (repeatable)"
    )
    p.add_argument("--label", default="", help="free text stored with the results")
    p.add_argument(
        "--probe",
        action="store_true",
        help="diagnostic: serve through bench.pool_probe, which samples "
        "DB pool use, hash-limiter queue and in-flight requests",
    )
    p.add_argument(
        "--py-spy",
        metavar="PATH",
        help="diagnostic: py-spy binary; profiles the server over the measured window into the work folder (kept)",
    )
    args = p.parse_args(argv)

    duration = args.duration or (8.0 if args.quick else 30.0)
    extra = dict(kv.split("=", 1) for kv in args.set)
    if any(not k.startswith("SCRIBETREE_") for k in extra):
        p.error("--set takes SCRIBETREE_KEY=VALUE")
    if args.hash_concurrency:
        extra["SCRIBETREE_PASSWORD_HASH_CONCURRENCY"] = str(args.hash_concurrency)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    scenarios = {"all": ["a", "b"], "writing": ["c", "d"]}.get(args.scenario, [args.scenario])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    workdir = RESULTS / f"{stamp}-work"
    workdir.mkdir()
    plan = Plan(
        args.users,
        duration,
        args.think_b,
        args.storm_users,
        args.storm_spread,
        3.0 if args.quick else 5.0,
        extra,
        workdir,
        args.probe,
        args.py_spy,
        {"sqlite": args.writers_sqlite, "postgresql": args.writers_postgresql},
        2.0,
        args.users_d,
        20_000,
        args.long_doc_events,
    )
    command = " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    print(f"# bench.run {stamp}: {command}\n# work files: {workdir}", flush=True)
    print(HEADER + "\n" + RULE, flush=True)

    rows: list[dict[str, Any]] = []
    for rep in range(args.repeat):
        hello = measure_hello(plan)
        hello["rep"] = rep
        rows.append(hello)
        print(markdown_row(hello, hello["rps"]), flush=True)
        for db in dbs:
            for scenario in scenarios:
                r = measure_app(scenario, db, plan, f"{stamp.lower()}_{rep}_{scenario}")
                r["rep"] = rep
                r["ratio"] = round(r["rps"] / hello["rps"], 3) if scenario in ("a", "d") and hello["rps"] else None
                if r.get("long_doc_ratio") is not None:
                    print(f"   long-document probe (p50 long / p50 new): {r['long_doc_ratio']}", flush=True)
                rows.append(r)
                print(markdown_row(r, hello["rps"]), flush=True)
        for r in rows:
            if r["scenario"] == "hello":
                r["ratio"] = 1.0

    summary = medians(rows)
    print(
        "\n# medians over",
        args.repeat,
        "run(s), (min-max)\n" + MEDIAN_HEADER + "\n|" + "|".join(["---"] * (MEDIAN_HEADER.count("|") - 1)) + "|",
    )
    for m in summary:
        print(median_row(m))
    settings = next((r["settings"] for r in rows if "settings" in r), {})
    result = {
        "stamp": stamp,
        "command": command,
        "label": args.label,
        "machine": machine(),
        "settings": settings,
        "plan": {
            "users": args.users,
            "duration_s": duration,
            "think_b_s": args.think_b,
            "storm_users": args.storm_users,
            "storm_spread_s": args.storm_spread,
            "storm_delay_s": plan.storm_delay,
            "extra_env": extra,
            "repeat": args.repeat,
        },
        "medians": summary,
        "runs": rows,
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    if not args.py_spy and not args.probe and all(not r["errors"] and not r.get("signin_failures") for r in rows):
        shutil.rmtree(workdir, ignore_errors=True)  # keep the server logs when something failed, and the samples
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
