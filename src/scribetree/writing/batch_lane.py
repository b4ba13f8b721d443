"""The editor's batch route, ``POST /api/v1/documents/{document_id}/batches``, served without the framework's
per-request machinery.

Every student's editor sends a batch about every 2 s: the product's hottest request. Through FastAPI each one
paid for the exception and exit-stack middleware, matching the path against every route, resolving the
dependency graph and validating the response model: a third of the request's CPU. This ASGI layer sits inside
the security and metrics middleware (request id, body limit, headers, access log and metrics all still apply)
and answers the route itself with the same steps as ``writing.endpoints.post_batch``: the same authorization
(``auth.WritingWrite``, CSRF included), the same body model, the same service call and unit of work, the same
error bodies. Anything unusual (a path id that is not a UUID, a body that is not JSON) goes on to the framework
route, which stays registered (OpenAPI, docs) and answers exactly as before. Tests run the API suite through
both (tests/writing/test_batch_lane.py).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from scribetree.core import http
from scribetree.core.errors import ScribetreeError
from scribetree.writing import auth
from scribetree.writing.schemas import BatchCreate
from scribetree.writing.service import document as document_service

PATH = re.compile(r"^/api/v1/documents/([^/]+)/batches$")
_authorize = auth.WritingWrite.__metadata__[0].dependency  # the route's own Authorize(...) instance


class BatchLane:
    """ASGI middleware: the batch route above, or the wrapped app for everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.enabled = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.enabled and scope["type"] == "http" and scope["method"] == "POST"):
            await self.app(scope, receive, send)
            return
        match = PATH.match(scope["path"])
        document_id = _uuid(match.group(1)) if match else None
        if document_id is None or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        if not raw:  # the framework's "body required" answer
            await self.app(scope, http.replay_body(raw, receive), send)
            return
        _set_route(scope)
        request = Request(scope, http.replay_body(raw, receive))
        try:
            response = await http.in_unit_of_work(request, lambda r: _post_batch(r, document_id, raw))
        except ScribetreeError as exc:
            response = http.scribetree_error_response(exc)
        await response(scope, receive, send)


async def _post_batch(request: Request, document_id: uuid.UUID, raw: bytes) -> Response:
    # As the framework does: a body that is not JSON is refused first, then the caller is authorized, then the
    # fields are validated (the same way: parsed JSON, then the model, errors located under "body").
    try:
        data = json.loads(raw)
    except ValueError:
        malformed = {"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}
        return http.validation_error_response(RequestValidationError([malformed]))
    read = await http.get_read_session(request)
    ctx = await _authorize(request, read)
    try:
        body = BatchCreate.model_validate(data, from_attributes=True)  # as the framework validates bodies
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        return http.validation_error_response(RequestValidationError(errors))
    write = await http.get_write_session(request)
    result = await http.with_details(
        document_service.apply_batch(write, ctx, document_id, body, read_session=read, commit_now=True)
    )
    if isinstance(result, JSONResponse):
        return result
    return Response(result.model_dump_json(), media_type="application/json")


async def _read_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


_route: list[Any] = []


def _set_route(scope: Scope) -> None:
    """Name the framework route in the scope, so logs and metrics label the request with its template."""
    app = scope.get("app")
    if not _route and app is not None:
        _route.extend(
            ctx.original_route
            for ctx in iter_route_contexts(getattr(app, "routes", ()))
            if ctx.path == "/api/v1/documents/{document_id}/batches"
            and "POST" in (getattr(ctx.original_route, "methods", None) or ())
        )
    if _route:
        scope["route"] = _route[0]
