"""Changes made by this process's own requests, applied here as soon as they commit.

The `mr_change` notification (service/core/changes.py) reaches every process within a second; the process
that made the change applies it at once, right after its commit (service/core/db.py: provide_connection),
so that whoever just wrote reads what they wrote from this process's caches. A service calls
`wrote(topic)` where it changes what a topic covers; the request's set of topics is made by
TransactionJanitor before anything else runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_WRITTEN: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("mr_written", default=None)
Local = Callable[[], None]
_LOCAL: dict[str, list[Local]] = {}


def begin_request() -> contextvars.Token[set[str] | None]:
    return _WRITTEN.set(set())


def end_request(token: contextvars.Token[set[str] | None]) -> None:
    _WRITTEN.reset(token)


def wrote(topic: str) -> None:
    """This request's transaction changes what `topic` covers (nothing outside a request)."""
    written = _WRITTEN.get()
    if written is not None:
        written.add(topic)


def on_local_commit(topic: str, handler: Local) -> None:
    """Call `handler` (synchronous, cheap: e.g. forget a cache's entries) after this process commits a
    change of `topic`."""
    _LOCAL.setdefault(topic, []).append(handler)


def off_local_commit(topic: str, handler: Local) -> None:
    with contextlib.suppress(KeyError, ValueError):
        _LOCAL[topic].remove(handler)


def committed() -> None:
    """The request's transaction committed: apply its changes to this process's caches now."""
    written = _WRITTEN.get()
    if not written:
        return
    topics, written_now = sorted(written), written
    written_now.clear()
    for topic in topics:
        for handler in list(_LOCAL.get(topic, ())):
            try:
                handler()
            except Exception:
                log.exception("applying local change %s failed", topic)
