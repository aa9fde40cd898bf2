"""Structured JSON logs and a request id on every request (echoed in the X-Request-ID header)."""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
import time
from typing import Any

import msgspec

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("matter_registry.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "client"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("casbin").setLevel(logging.ERROR)


def new_request_id() -> str:
    """32 hex characters, unique across processes and restarts: a random prefix drawn once per process
    (again in a forked child) and a counter, instead of a uuid4 (a getrandom call) per request."""
    return f"{_PREFIX[0]}{next(_COUNTER[0]):016x}"


def _reseed() -> None:
    _PREFIX[0] = secrets.token_hex(8)
    _COUNTER[0] = itertools.count(1)


_PREFIX = [""]
_COUNTER: list[itertools.count[int]] = [itertools.count(1)]
_reseed()
os.register_at_fork(after_in_child=_reseed)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """A sane X-Request-ID from the caller, or a new one."""
    for key, value in headers:
        if key == REQUEST_ID_HEADER:
            given = value.decode("latin-1")
            return given if _SAFE_ID.match(given) else new_request_id()
    return new_request_id()


def log_access(request_id: str, method: str | None, path: str | None, status: int, started: float) -> None:
    """One access line per request (service/core/path.py). Only method, path (no query string: it may carry
    search terms), status and timing; never headers, so tokens and cookies stay out of the logs."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("request", extra={
            "request_id": request_id, "method": method, "path": path, "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        })
