#!/bin/bash
# Idle RSS of one `scribetree serve` on a new SQLite data folder: VmRSS (MB) 2 s after /readyz answers and one GET /.
#   bench/idle_rss.sh [VAR=value ...]        e.g. PYTHONPATH=/path/to/other/worktree/src bench/idle_rss.sh
#   SMAPS=1 bench/idle_rss.sh                 also: anonymous and file-backed memory, the mappings over 1 MB
# Run it alternately against two trees (PYTHONPATH) to compare them; quote medians.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(mktemp -d /tmp/idle-rss.XXXX)
PORT=${PORT:-8131}
env -u SCRIBETREE_DATABASE_URL SCRIBETREE_ENV=development SCRIBETREE_DATA_DIR="$DATA" SCRIBETREE_REDIS_URL= \
    SCRIBETREE_LOG_LEVEL=WARNING "$@" .venv/bin/scribetree serve --port "$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill -9 $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 150); do
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q 200 && break
    sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/"
sleep 2
awk '/VmRSS/{printf "idle serve VmRSS %.1f MB\n", $2/1024}' "/proc/$PID/status"
if [ -n "${SMAPS:-}" ]; then  # where it is: anonymous against file-backed, and the mappings over 1 MB by RSS
    grep -E '^(Rss|Anonymous|Pss_File):' "/proc/$PID/smaps_rollup"
    awk '/^[0-9a-f]+-/{name=$6} /^Rss:/{rss[name]+=$2} END{for (n in rss) if (rss[n] > 1024) printf "%8.1f MB %s\n", rss[n]/1024, (n == "" ? "[anonymous mmap]" : n)}' \
        "/proc/$PID/smaps" | sort -rn
fi
