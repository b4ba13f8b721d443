"""The test environment. Imported first by the fixtures plugin (``-p tests.fixtures`` loads before
conftest.py), so settings are read with these values."""

import os
import tempfile

os.environ["SCRIBETREE_ENV"] = "testing"
os.environ.setdefault("SCRIBETREE_DATA_DIR", tempfile.mkdtemp(prefix="scribetree-data-"))
os.environ.setdefault("SCRIBETREE_ARGON2_MEMORY_KIB", "64")  # hashing cost is not what tests measure
os.environ.setdefault("SCRIBETREE_ARGON2_TIME_COST", "1")
os.environ.setdefault("SCRIBETREE_WORKER_IN_PROCESS", "false")
os.environ.setdefault("SCRIBETREE_LOG_JSON", "false")
os.environ.setdefault("SCRIBETREE_LOG_LEVEL", "WARNING")
# The periodic epoch check adds a statement whenever its interval has passed, which would make query-count tests
# depend on timing; tests of the check set the interval themselves (tests/{core,writing}/test_cache_epochs.py).
os.environ.setdefault("SCRIBETREE_CACHE_EPOCH_CHECK_SECONDS", "86400")
