"""The provider module does not load httpx until a provider is called: httpx brings click, rich and pygments
(about 5 MB of resident memory) into every server process, and most institutions use only the built-in engine."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import scribetree.ai_partner.engine
import scribetree.ai_partner.engine.providers
print(sorted(m for m in ("httpx", "rich", "pygments") if m in sys.modules))
"""


def test_importing_the_engine_does_not_load_httpx():
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
