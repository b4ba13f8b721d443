"""Structured logs: one JSON object per line on stderr (or plain text in development if asked)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from scribetree.core.config import settings

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        from scribetree.core.http import request_id_var

        rid = request_id_var.get()
        if rid:
            body["request_id"] = rid
        body.update({k: v for k, v in record.__dict__.items() if k not in _STD})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.LOG_JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.LOG_LEVEL)
    logging.getLogger("uvicorn.access").disabled = True  # our middleware writes the access line
