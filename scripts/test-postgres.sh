#!/usr/bin/env bash
# The PostgreSQL half of `make test`. Without a reachable server it is skipped with a visible message,
# unless SCRIBETREE_REQUIRE_POSTGRES=1 (CI), where that is a failure.
set -euo pipefail
BIN=${1:-.venv/bin}
URL=${SCRIBETREE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}
export SCRIBETREE_TEST_POSTGRES_URL=$URL
if ! "$BIN/python" - "$URL" <<'PY'
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"    {type(exc).__name__}: {exc}".rstrip(), file=sys.stderr)
    sys.exit(1)
PY
then
  if [ "${SCRIBETREE_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "==> PostgreSQL is not reachable at $URL and SCRIBETREE_REQUIRE_POSTGRES=1: failing." >&2
    exit 1
  fi
  echo "################################################################################"
  echo "## SKIPPED: the PostgreSQL half of the suite. No server answered at"
  echo "##   $URL"
  echo "## Start PostgreSQL (or set SCRIBETREE_TEST_POSTGRES_URL) and run 'make test' again."
  echo "################################################################################"
  exit 0
fi
echo "==> test suite on PostgreSQL"
SCRIBETREE_TEST_DATABASE=postgresql "$BIN/pytest" -q
