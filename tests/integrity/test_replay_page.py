"""The replay page: the author and the course's staff get it (without the student's text: the player fetches it);
a classmate, another tenant and a malformed id get 404."""

from __future__ import annotations

import uuid

from tests.integrity.replay_helpers import crafted
from tests.writing.conftest import ClientFor, Klass


class TestReplayPage:
    async def test_who_sees_it(self, klass: Klass, client_for: ClientFor) -> None:
        student = await client_for(klass.student, klass.tenant)
        w = await crafted(student, klass.assignment.id)
        r = await student.get(f"/documents/{w.id}/replay")
        assert r.status_code == 200
        assert 'id="replay-scrubber"' in r.text and f'max="{w.revision}"' in r.text
        assert "Replay: Ada Student" in r.text
        assert "東京タワー" not in r.text  # the text comes from the audited API, not the page
        staff = await client_for(klass.ta, klass.tenant)
        assert (await staff.get(f"/documents/{w.id}/replay")).status_code == 200
        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.get(f"/documents/{w.id}/replay")).status_code == 404
        assert (await student.get(f"/documents/{uuid.uuid4()}/replay")).status_code == 404
        assert (await student.get("/documents/not-an-id/replay")).status_code == 404
