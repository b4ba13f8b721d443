"""The batch route's lane (writing.batch_lane) answers exactly as the framework route it stands in for.

Each scenario is sent twice on fresh documents: once through the lane and once with the lane switched off (the
framework route, ``writing.endpoints.post_batch``); status, error code, body fields and the stored document must
be the same. The lane must also really serve the ordinary request (a counter on its handler).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import http
from scribetree.writing import batch_lane
from tests.factories.courses import create_assignment
from tests.factories.writing import batch_body, ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc, state


def lane_of(app: FastAPI) -> batch_lane.BatchLane:
    layer: Any = app.middleware_stack or app.build_middleware_stack()
    app.middleware_stack = layer
    while not isinstance(layer, batch_lane.BatchLane):
        layer = layer.app
    return layer


Scenario = Callable[[httpx.AsyncClient, httpx.AsyncClient, str], Awaitable[httpx.Response]]


def post(c: httpx.AsyncClient, doc: str, **kwargs: Any) -> Awaitable[httpx.Response]:
    return c.post(f"/api/v1/documents/{doc}/batches", **kwargs)


def first(text: str = "Hello", **kw: Any) -> dict[str, Any]:
    return batch_body("", [ins(0, text)], seq=1, base_revision=0, session_id=kw.pop("sid", uuid.uuid4()), **kw)[0]


async def accepted(c, other, doc):
    return await post(c, doc, json=first())


async def replayed(c, other, doc):
    body = first()
    await post(c, doc, json=body)
    return await post(c, doc, json=body)


async def seq_gap(c, other, doc):
    return await post(c, doc, json={**first(), "seq": 3})


async def stale(c, other, doc):
    await post(c, doc, json=first())
    return await post(c, doc, json=first("Other"))


async def hash_mismatch(c, other, doc):
    return await post(c, doc, json={**first(), "content_hash": "0" * 64})


async def malformed_op(c, other, doc):
    return await post(c, doc, json={**first(), "ops": [{"kind": "insert", "pos": -1, "text": "x", "t": 0}]})


async def invalid_fields(c, other, doc):
    return await post(c, doc, json={**first(), "seq": 0, "session_id": "nope"})


async def missing_field(c, other, doc):
    body = first()
    del body["content_hash"]
    return await post(c, doc, json=body)


async def not_json(c, other, doc):
    return await post(c, doc, content=b"{not json", headers={"content-type": "application/json"})


async def empty_body(c, other, doc):
    return await post(c, doc, content=b"", headers={"content-type": "application/json"})


async def json_array(c, other, doc):
    return await post(c, doc, json=[1, 2])


async def no_csrf(c, other, doc):
    return await post(c, doc, json=first(), headers={"X-CSRF-Token": "wrong"})


async def signed_out(c, other, doc):
    async with httpx.AsyncClient(transport=c._transport, base_url=str(c.base_url)) as anonymous:
        return await post(anonymous, doc, json=first())


async def someone_elses(c, other, doc):
    return await post(other, doc, json=first())


async def unknown_document(c, other, doc):
    return await post(c, str(uuid.uuid4()), json=first())


async def not_a_uuid(c, other, doc):
    return await post(c, "not-a-uuid", json=first())


async def form_encoded(c, other, doc):
    return await post(c, doc, data={"seq": "1"})


async def too_many_ops(c, other, doc):
    return await post(c, doc, json={**first(), "ops": [ins(0, "x")] * 100_000})


SCENARIOS = [
    accepted,
    replayed,
    seq_gap,
    stale,
    hash_mismatch,
    malformed_op,
    invalid_fields,
    missing_field,
    not_json,
    empty_body,
    json_array,
    no_csrf,
    signed_out,
    someone_elses,
    unknown_document,
    not_a_uuid,
    form_encoded,
    too_many_ops,
]
VOLATILE = {"request_id", "document_id", "session_id"}


def comparable(r: httpx.Response) -> tuple[int, Any, str | None]:
    try:
        body = r.json()
    except ValueError:
        body = r.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
        if isinstance(body.get("current"), dict):
            body["current"] = {k: v for k, v in body["current"].items() if k not in VOLATILE}
    return r.status_code, body, r.headers.get("content-type")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_the_lane_answers_as_the_framework_route(
    scenario: Scenario,
    app: FastAPI,
    klass: Klass,
    client_for: ClientFor,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[str] = []
    handler = batch_lane._post_batch

    async def counted(*args: Any) -> Any:
        served.append("lane")
        return await handler(*args)

    monkeypatch.setattr(batch_lane, "_post_batch", counted)
    lane = lane_of(app)
    assignments = [klass.assignment, await create_assignment(session, klass.course)]  # a fresh document each round
    await session.commit()
    rounds = [
        (
            enabled,
            assignment.id,
            await client_for(klass.student, klass.tenant),
            await client_for(klass.classmate, klass.tenant),
        )
        for enabled, assignment in zip((True, False), assignments, strict=True)
    ]  # made before any rollback below expires the loaded rows
    results = []
    for enabled, assignment_id, c, other in rounds:
        lane.enabled = enabled
        try:
            doc = (await open_doc(c, assignment_id))["id"]
            await open_doc(other, assignment_id)
            before = len(served)
            response = await scenario(c, other, doc)
            text, revision, _, batches = await state(session, doc)
            results.append((comparable(response), (text, revision, batches)))
            if enabled and scenario in (accepted, replayed, stale, seq_gap, hash_mismatch):
                assert len(served) > before, "the lane did not serve this request"
        finally:
            lane.enabled = True
    assert results[0] == results[1]


def test_lane_requests_carry_the_route_template_for_logs_and_metrics(app: FastAPI) -> None:
    scope: dict[str, Any] = {"type": "http", "app": app, "path": f"/api/v1/documents/{uuid.uuid4()}/batches"}
    batch_lane._set_route(scope)
    assert http.route_template(scope) == "/api/v1/documents/{document_id}/batches"
