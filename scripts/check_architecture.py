#!/usr/bin/env python3
"""AST checks for the rules import-linter cannot express (STYLE L7).

- N3: only ``scribetree.ops`` and ``scribetree.compliance`` may call ``.unscoped(`` (cross-tenant repositories).
- T2: services and repositories never call ``commit()``, ``rollback()`` or ``begin()`` (``begin_nested`` is fine).
- C1: nothing but ``core/config.py`` reads the environment (``os.environ``, ``os.getenv``).
- E1: ``HTTPException`` is never raised (or imported) in a service.
- G1: a log call's ``extra={...}`` never uses a key the ``LogRecord`` already has (``created``, ``name``,
  ``msg``...): logging raises ``KeyError`` for it, but only when the level is enabled, so tests at WARNING miss
  what kills an INFO call in production.

Usage: ``python scripts/check_architecture.py [SRC_DIR]`` (default: ``src/scribetree`` next to this script).
Prints ``file:line: RULE message`` for each violation and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "src" / "scribetree"
UNSCOPED_ALLOWED = ("ops", "compliance")  # top-level packages under scribetree/
TRANSACTION_CALLS = {"commit", "rollback", "begin"}
ENV_ALLOWED = ("core/config.py",)
ENV_NAMES = {"environ", "getenv", "putenv", "unsetenv", "environb", "getenvb"}
LOG_RECORD_KEYS = frozenset(logging.LogRecord("n", 0, "p", 0, "m", (), None).__dict__) | {"message", "asctime"}


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"


def _layer(relative: Path) -> str:
    """``service`` for service.py and anything inside a ``service/`` package; likewise ``repository``."""
    parts = relative.with_suffix("").parts
    for kind in ("service", "repository"):
        if parts[-1] == kind or kind in parts[:-1]:
            return kind
    return ""


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    if isinstance(exc, ast.Attribute):
        return exc.attr
    if isinstance(exc, ast.Name):
        return exc.id
    return None


def check_file(path: Path, root: Path) -> Iterator[Violation]:
    relative = path.relative_to(root)
    shown = str(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
    package = relative.parts[0] if len(relative.parts) > 1 else ""
    layer = _layer(relative)
    env_ok = relative.as_posix() in ENV_ALLOWED
    os_aliases = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_aliases |= {a.asname or a.name for a in node.names if a.name == "os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            for kw in node.keywords:
                if kw.arg == "extra" and isinstance(kw.value, ast.Dict):
                    for key in kw.value.keys:
                        if isinstance(key, ast.Constant) and key.value in LOG_RECORD_KEYS:
                            yield Violation(
                                shown,
                                node.lineno,
                                "G1",
                                f"extra={{{key.value!r}: ...}} overwrites a LogRecord attribute (KeyError when logged)",
                            )
            if name == "unscoped" and package not in UNSCOPED_ALLOWED:
                yield Violation(
                    shown, node.lineno, "N3", "calls .unscoped(); only ops and compliance may cross tenants"
                )
            if layer and name in TRANSACTION_CALLS:
                yield Violation(
                    shown,
                    node.lineno,
                    "T2",
                    f"a {layer} calls {name}(); the unit of work owns the transaction (use flush())",
                )
        elif isinstance(node, ast.Attribute) and not env_ok:
            if node.attr in ENV_NAMES and isinstance(node.value, ast.Name) and node.value.id in os_aliases:
                yield Violation(shown, node.lineno, "C1", f"reads os.{node.attr}; use core.config.settings")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and not env_ok:
            for alias in node.names:
                if alias.name in ENV_NAMES:
                    yield Violation(shown, node.lineno, "C1", f"imports os.{alias.name}; use core.config.settings")
        elif isinstance(node, ast.Raise) and layer == "service" and _raised_name(node) == "HTTPException":
            yield Violation(shown, node.lineno, "E1", "raises HTTPException; raise a ScribetreeError subclass")
        elif isinstance(node, ast.ImportFrom) and layer == "service":
            for alias in node.names:
                if alias.name == "HTTPException":
                    yield Violation(shown, node.lineno, "E1", "imports HTTPException; services know nothing of HTTP")


def check(root: Path = DEFAULT_ROOT) -> list[Violation]:
    found: list[Violation] = []
    for path in sorted(root.rglob("*.py")):
        found.extend(check_file(path, root))
    return sorted(set(found))


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else DEFAULT_ROOT
    if not root.is_dir():
        print(f"not a directory: {root}", file=sys.stderr)
        return 2
    violations = check(root)
    for v in violations:
        print(v)
    if violations:
        print(f"{len(violations)} architecture violation(s) (STYLE N3, T2, C1, E1; G1 logging)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
