"""The flags' evaluation on generated process histories (docs/integrity.md, "Evaluation"): zero flags on the
authentic writers, the copy-paste, retyping and auto-typer histories caught. Fails if a rate regresses."""

from __future__ import annotations

import random
import re
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.integrity import flags, simulate
from tests.factories.courses import create_assignment
from tests.integrity.evidence_helpers import write_and_submit
from tests.writing.conftest import ClientFor, Klass

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrity.md"
SEEDS = 25

# The least share of histories each kind must raise at least one flag on (authentic: the most, 0).
EXPECTED_ANY_FLAG = {
    "planner": 0.0,
    "reviser": 0.0,
    "bursty": 0.0,
    "nonnative": 0.0,
    "copy_paste": 1.0,
    "retyping": 1.0,
    "autotyper": 1.0,
}
# The signal that must catch each kind (detection rate of that flag alone).
EXPECTED_SIGNAL = {"copy_paste": "external_paste_share", "retyping": "retyping_pattern", "autotyper": "uniform_rhythm"}


class TestEvaluation:
    def test_rates_do_not_regress(self) -> None:
        rates = simulate.evaluate(SEEDS)
        for writer, expected in EXPECTED_ANY_FLAG.items():
            got = rates.any_flag.get(writer, 0) / rates.runs[writer]
            if expected == 0.0:
                assert got == 0.0, f"{writer}: flags raised on authentic histories: {rates.flagged[writer]}"
            else:
                assert got >= expected, f"{writer}: only {got:.0%} of histories flagged"
        for writer, code in EXPECTED_SIGNAL.items():
            assert rates.flagged[writer].get(code, 0) == rates.runs[writer], (writer, rates.flagged[writer])

    def test_the_published_table_is_the_measured_one(self) -> None:
        table = simulate.evaluate(SEEDS).table()
        assert table in DOCS.read_text(encoding="utf-8"), "re-run the command in docs/integrity.md and paste its table"

    def test_published_thresholds_match_the_code(self) -> None:
        doc = DOCS.read_text(encoding="utf-8")
        for name in (
            "MIN_WORDS",
            "EXTERNAL_SHARE",
            "LARGE_PASTE_CHARS",
            "RETYPING_REVISION_RATIO",
            "RETYPING_LINEARITY",
            "RETYPING_PAUSES_PER_100_WORDS",
            "RHYTHM_MIN_KEYSTROKES",
            "RHYTHM_WORD_START_RATIO",
            "RHYTHM_LOG_SD",
            "FOCUS_INSERT_CHARS",
            "FAST_MINUTES_PER_100_WORDS",
        ):
            value = getattr(flags, name)
            assert re.search(rf"`{name}`\s*=\s*{re.escape(str(value))}\b", doc), f"{name} = {value} not in the docs"
        for code in flags.FLAG_CODES:
            assert f"`{code}`" in doc


class TestThroughTheRealPipeline:
    async def test_stored_histories_give_the_same_flags(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        """Each kind of writer, stored through the batch API in editor-sized batches and submitted: the report's
        flags are those of the in-memory evaluation, none on authentic writers, each adversary caught."""
        staff = await client_for(klass.instructor, klass.tenant)
        student = await client_for(klass.student, klass.tenant)
        for name in (*simulate.AUTHENTIC, *EXPECTED_SIGNAL):
            history = simulate.WRITERS[name](random.Random(f"{name}-pipeline"), 250)
            assignment = await create_assignment(session, klass.course, title=name)
            await session.commit()
            w, sid = await write_and_submit(student, assignment.id, history)
            assert w.text == simulate.final_text(history)
            report = (await staff.get(f"/api/v1/submissions/{sid}/integrity")).json()
            assert report["evidence"]["consistent"] is True
            got = sorted(f["code"] for f in report["flags"])
            assert got == sorted(simulate.flag_codes(history)), name
            if name in simulate.AUTHENTIC:
                assert got == [], name
            else:
                assert EXPECTED_SIGNAL[name] in got, name
