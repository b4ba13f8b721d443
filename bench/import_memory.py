"""Where an idle server's memory goes: the app built as ``serve`` builds it, under tracemalloc.

    .venv/bin/python -m bench.import_memory

Prints the Python memory allocated while importing and building the app (``create_app()``), grouped by the
package whose code made the allocation (code objects loaded from .pyc files show as importlib's), and the size
of the compiled code (.pyc) of the modules loaded, by package. A diagnostic for peak RSS (bench/RESULTS.md): tracemalloc
sees the interpreter's own allocations only, not C libraries' nor the interpreter's free lists.
"""

from __future__ import annotations

import collections
import importlib.util
import marshal
import os
import re
import sys
import tempfile
import tracemalloc

TOP = 15


def _group(filename: str) -> str:
    for pattern in (r"src/(scribetree)/", r"site-packages/([^/]+)/", r"python3\.\d+/([^/]+?)(?:\.py)?(?:/|$)"):
        m = re.search(pattern, filename)
        if m:
            return m.group(1)
    return filename  # <frozen importlib._bootstrap_external> and the like


def _pyc_size(source: str) -> int:
    """The module's .pyc size; compiled here when there is none (PYTHONDONTWRITEBYTECODE, a read-only tree)."""
    cached = importlib.util.cache_from_source(source)
    if os.path.exists(cached):
        return os.path.getsize(cached)
    with open(source, "rb") as fh:
        return len(marshal.dumps(compile(fh.read(), source, "exec")))


def main() -> None:
    os.environ.setdefault("SCRIBETREE_DATA_DIR", tempfile.mkdtemp(prefix="import-memory-"))
    tracemalloc.start()
    from scribetree.app import create_app

    create_app()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    by_group: collections.Counter[str] = collections.Counter()
    for stat in snapshot.statistics("filename"):
        by_group[_group(stat.traceback[0].filename)] += stat.size
    print(f"allocated while importing and building the app: {sum(by_group.values()) / 1e6:.1f} MB")
    for name, size in by_group.most_common(TOP):
        print(f"  {size / 1e6:6.1f} MB  {name}")

    pyc: collections.Counter[str] = collections.Counter()
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if source and source.endswith(".py"):
            pyc[name.split(".")[0]] += _pyc_size(source)
    print(f"modules loaded: {len(sys.modules)}; their compiled code (.pyc): {sum(pyc.values()) / 1e6:.1f} MB")
    for name, size in pyc.most_common(TOP):
        print(f"  {size / 1e6:6.2f} MB  {name}")


if __name__ == "__main__":
    main()
