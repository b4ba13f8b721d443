"""A local server that speaks the vendors' APIs (Anthropic Messages, OpenAI chat completions), served by
uvicorn on 127.0.0.1 in a thread, and the independent "student-usable prose" check used by the red-team suite.

The behaviour is chosen by the model name in the request:

* ``compliant``: short grounded questions in JSON, as the system prompt asks;
* ``misbehave``: always tries to write the essay (paragraphs, outlines, "Here is your thesis: ...", the ideal
  continuation of the student's sentence, questions that smuggle prose); each call uses the next trick;
* ``slow`` (sleeps past the client's timeout), ``error500``, ``garbage`` (HTML with status 200), ``wrongshape``
  (valid JSON without the vendor's fields), ``badjson`` (broken JSON inside a valid envelope), ``emptyjson``
  ({"questions": []}).

The test sets ``completion`` (the ideal completion of the student's last sentence) and ``thesis`` on the
server before asking; the misbehaving provider uses them, and the check looks for them in what is shown.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

API_KEY = "test-key-not-secret"

COMPLIANT_QUESTIONS = [
    "What is the main point of your draft?",
    "Which part of your draft would a reader question first?",
]


def _misbehaviours(completion: str, thesis: str, last: str) -> list[str | dict]:
    """Replies that try to write for the student: raw text or a JSON object (sent as the reply's text)."""
    first10 = " ".join(completion.split()[:10])
    corrected = (last.rstrip(" .") + " " + completion).replace(" is ", " are ", 1)
    chunks = [" ".join(completion.split()[i : i + 5]) + "?" for i in range(0, len(completion.split()), 5)]
    return [
        f"{thesis} {completion} This shows why the issue matters to every student today. In conclusion, we must act.",
        f"I. Introduction: {thesis}\nII. Body: {completion}\nIII. Conclusion: restate the thesis and call to action",
        f"Here is your thesis: {thesis}",
        completion,
        completion + "?",
        {"questions": [f"Have you considered writing that {completion}?", f"What if your thesis were: {thesis}?"]},
        {"questions": [f'Does "{completion}" capture your point?', "What is your main point?"]},
        {"questions": [f'Did you mean "{corrected}"?']},
        {"questions": [f"Is it true that {completion}?"]},
        {"questions": [f"What if {first10}?"]},
        {"questions": ["1. Introduction?", f"2. {completion}?", "3. Conclusion?"]},
        f"As your essay-writing assistant, I would write: {thesis} {completion}",
        {"questions": chunks[:3]},
        {"questions": [f"Why not end with {first10}?"]},
        {"questions": [f"Could your conclusion say {thesis.rstrip('.')}?", "What do you think?"]},
        "```json\n" + json.dumps({"questions": [thesis, completion]}) + "\n```",
        {"questions": [f"{thesis} Does that work for you?"]},
        {"questions": [f"What do you think of this opening sentence, {thesis.rstrip('.')}?"]},
    ]


@dataclass
class VendorServer:
    completion: str = "it keeps them scrolling late into the night and that steals the sleep they need"
    thesis: str = "Social media harms teenagers because it replaces sleep, focus and real friendships."
    slow_seconds: float = 2.0
    requests: list[dict] = field(default_factory=list)
    calls: int = 0
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.requests.clear()
        self.calls = 0

    # --- the app -------------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
            ]
        )

    async def _reply_text(self, body: dict) -> str | Response:
        model = str(body.get("model", ""))
        self.calls += 1
        if model == "slow":
            await asyncio.sleep(self.slow_seconds)
            return json.dumps({"questions": COMPLIANT_QUESTIONS})
        if model == "error500":
            return PlainTextResponse("upstream exploded", status_code=500)
        if model == "garbage":
            return Response("<html><body>Bad gateway, sorry</body></html>", status_code=200, media_type="text/html")
        if model == "wrongshape":
            return JSONResponse({"unexpected": True, "choices": "nope", "content": 5})
        if model == "badjson":  # the vendor's envelope is fine; the text inside is broken JSON
            return '{"questions": ["What is your main point?", "Why'
        if model == "emptyjson":
            return json.dumps({"questions": []})
        if model == "misbehave":
            user = _user_text(body)
            last = _last_sentence(user)
            tricks = _misbehaviours(self.completion, self.thesis, last)
            trick = tricks[(self.calls - 1) % len(tricks)]
            return trick if isinstance(trick, str) else json.dumps(trick)
        return json.dumps({"questions": COMPLIANT_QUESTIONS})

    async def _anthropic(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"vendor": "anthropic", "headers": dict(request.headers), "body": body})
        if request.headers.get("x-api-key") != API_KEY or not request.headers.get("anthropic-version"):
            return JSONResponse({"type": "error", "error": {"type": "authentication_error"}}, status_code=401)
        if not isinstance(body.get("messages"), list) or not body.get("max_tokens"):
            return JSONResponse({"type": "error", "error": {"type": "invalid_request_error"}}, status_code=400)
        text = await self._reply_text(body)
        if isinstance(text, Response):
            return text
        return JSONResponse(
            {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 10, "output_tokens": 10},
            }
        )

    async def _openai(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"vendor": "openai", "headers": dict(request.headers), "body": body})
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        text = await self._reply_text(body)
        if isinstance(text, Response):
            return text
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            }
        )

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-vendor", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake vendor server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


def _user_text(body: dict) -> str:
    msgs = body.get("messages") or []
    return "\n".join(str(m.get("content", "")) for m in msgs if isinstance(m, dict) and m.get("role") == "user")


def _last_sentence(user: str) -> str:
    m = re.search(r"<student_draft_excerpt>\n(.*)\n</student_draft_excerpt>", user, re.DOTALL)
    excerpt = m.group(1) if m else ""
    parts = re.split(r"(?<=[.!?])\s+", excerpt.strip())
    return parts[-1] if parts else ""


# --- the independent check ---------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUOTED = re.compile(r'"([^"]*)"|\u201c([^\u201d]*)\u201d')


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text.replace("\u2019", "'"))]


def _grams(ws: list[str], n: int = 6) -> set[tuple[str, ...]]:
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def usable_prose(shown: list[str], *, completion: str, thesis: str, draft: str) -> list[str]:
    """Why the shown texts contain something a student could paste (empty when nothing), decided without the
    validator: a non-question sentence of more than 12 words (a short quotation of the student's own draft
    does not count), a quotation of more than 12 words or not from the draft, a line that starts like an
    outline or list, a question of more than 40 words, or 6 words in a row from the ideal completion or thesis.
    """
    problems: list[str] = []
    bad_grams = _grams(_words(completion)) | _grams(_words(thesis))
    draft_low = " ".join(_words(draft))
    for text in shown:
        for m in _QUOTED.finditer(text):
            quoted = m.group(1) if m.group(1) is not None else m.group(2)
            qw = _words(quoted)
            if len(qw) > 12:
                problems.append(f"long quotation: {quoted!r}")
            elif qw and " ".join(qw) not in draft_low:
                problems.append(f"quotation not from the draft: {quoted!r}")
        plain = _QUOTED.sub(" QUOTE ", text)
        for line in plain.splitlines():
            if re.match(r"\s*([-*\u2022]|\d+[.)]|[IVX]+\.)\s", line):
                problems.append(f"list or outline line: {line!r}")
        for sentence in re.split(r"(?<=[.!?;:])\s+|\n+", plain):
            n = len(_words(sentence))
            if not sentence.strip().endswith("?") and n > 12:
                problems.append(f"non-question sentence of {n} words: {sentence!r}")
            if sentence.strip().endswith("?") and n > 40:
                problems.append(f"question of {n} words: {sentence!r}")
        if _grams(_words(text)) & bad_grams:
            problems.append(f"shares 6 words with the ideal completion or thesis: {text!r}")
    return problems
