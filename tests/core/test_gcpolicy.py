"""core.gcpolicy: `serve` and `worker` freeze what start-up left alive, so a full garbage collection walks only what
the process made since; /metrics shows how long collections stood the process still.

Freezing is tried in child processes: the test process builds apps again and again and must not freeze its heap.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import threading

import pytest
from pydantic import ValidationError

from scribetree.core import gcpolicy
from scribetree.core.config import Settings
from scribetree.ops import metrics

# What `scribetree serve` does, up to the moment the app has started: enable() in the command, after_startup() in the
# app's lifespan. Reports the objects frozen and how long a full collection takes before and after.
PROBE = """
import gc, json, sys, time
import pytest
from pydantic import ValidationError

from scribetree.core import gcpolicy
from scribetree.core.config import Settings
from scribetree.app import create_app

def full_collection_ms():
    took = []
    for _ in range(5):
        t = time.perf_counter()
        gc.collect()
        took.append((time.perf_counter() - t) * 1000)
    return sorted(took)[2]

app = create_app()
if sys.argv[1] == "enable":
    gcpolicy.enable()
before = full_collection_ms()
frozen = gcpolicy.after_startup()
print("@@" + json.dumps({"frozen": frozen, "count": gc.get_freeze_count(), "before": before,
                         "after": full_collection_ms(), "thresholds": gc.get_threshold()}), flush=True)
"""


def probe(mode: str, **env: str) -> dict[str, float]:
    data = tempfile.mkdtemp(prefix="scribetree-gc-")
    full = {**os.environ, "SCRIBETREE_DATA_DIR": data, "SCRIBETREE_DATABASE_URL": "", **env}
    r = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=full, timeout=180)
    assert r.returncode == 0, r.stderr
    (line,) = [line for line in r.stdout.splitlines() if line.startswith("@@")]
    return json.loads(line[2:])


def test_a_serving_process_freezes_its_start_up_heap_and_full_collections_get_cheaper() -> None:
    got = probe("enable")
    assert got["frozen"] == got["count"] > 100_000, got  # the app's modules, routes, mappers, validators
    # a full collection walks none of them any more: several times cheaper (about 10x on the 2-core machine)
    assert got["after"] < got["before"] / 3, got


def test_a_serving_process_collects_at_the_configured_thresholds() -> None:
    assert probe("enable")["thresholds"] == [50_000, 20, 10]  # the default
    assert probe("enable", SCRIBETREE_GC_THRESHOLDS="[1000, 15, 12]")["thresholds"] == [1000, 15, 12]
    assert probe("enable", SCRIBETREE_GC_THRESHOLDS="[0, 0, 0]")["thresholds"] == list(gc.get_threshold())
    assert probe("plain")["thresholds"] == list(gc.get_threshold())  # without the command: the interpreter's own


def test_negative_thresholds_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(GC_THRESHOLDS=(-1, 10, 10))


def test_a_young_threshold_of_zero_is_refused_unless_all_are_zero() -> None:
    with pytest.raises(ValidationError, match="switches Python's garbage collector off"):
        Settings(GC_THRESHOLDS=(0, 20, 10))
    assert Settings(GC_THRESHOLDS=(0, 0, 0)).GC_THRESHOLDS == (0, 0, 0)


def test_nothing_is_frozen_unless_the_command_asks_or_when_the_setting_is_off() -> None:
    assert probe("tests")["count"] == 0  # create_app() alone, as the tests build it
    assert probe("enable", SCRIBETREE_GC_FREEZE_AT_STARTUP="false")["count"] == 0


def test_collections_are_timed_by_generation_and_exported() -> None:
    gcpolicy.watch()
    gcpolicy.watch()  # once only, however often the app starts
    assert gc.callbacks.count(gcpolicy._on_gc) == 1
    before = (gcpolicy.stats.collections[2], gcpolicy.stats.seconds[2])
    gc.collect()
    assert gcpolicy.stats.collections[2] == before[0] + 1
    assert gcpolicy.stats.seconds[2] > before[1]
    assert gcpolicy.stats.longest[2] > 0
    body = metrics.render()[0].decode()
    line = next(x for x in body.splitlines() if x.startswith('scribetree_gc_collections{generation="2"}'))
    assert float(line.split()[-1]) == gcpolicy.stats.collections[2]
    assert 'scribetree_gc_pause_seconds{generation="0"}' in body
    assert "scribetree_gc_frozen_objects 0.0" in body  # the test process never freezes


def test_the_worker_command_freezes_its_heap_and_stops_cleanly() -> None:
    """`scribetree worker` freezes inside its event loop (its engines made there), then works until SIGTERM."""
    data = tempfile.mkdtemp(prefix="scribetree-gc-worker-")
    env = {
        **os.environ,
        "SCRIBETREE_DATA_DIR": data,
        "SCRIBETREE_DATABASE_URL": "",
        "SCRIBETREE_LOG_LEVEL": "INFO",
        "SCRIBETREE_LOG_JSON": "true",
    }
    cli = [sys.executable, "-m", "scribetree.cli"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True, timeout=180)
    proc = subprocess.Popen([*cli, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:  # in a thread, so that a worker that never says it started cannot hang the suite
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "worker " in line and " started" in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(120), lines
        frozen = [json.loads(x) for x in lines if "start-up heap frozen" in x]
        assert frozen and frozen[0]["objects"] > 100_000, lines
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    assert proc.returncode == 0, lines
