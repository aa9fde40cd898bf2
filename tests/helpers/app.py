"""The app under test, started and served in the test's own event loop.

Litestar's AsyncTestClient runs the app (its lifespan and every request) in an event loop of a thread of
its own (an anyio blocking portal), while the test's own code (its database connections, a call into
`client.app.state`) runs in the test's loop: one asyncpg pool then served two threads, whose connections
are not safe across threads (the suite crashed with a segmentation fault in asyncpg's protocol). Here the
lifespan runs in the test's loop and httpx's ASGI transport calls the app in that same loop, as granian
serves it: one loop, one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar

BASE_URL = "http://testserver.local"


class AppClient(httpx.AsyncClient):
    """An httpx client bound to one running app; `app` is that app (its state for the tests that look in)."""

    def __init__(self, app: Litestar, *, base_url: str = BASE_URL, **kwargs: Any) -> None:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))  # type: ignore[arg-type]
        kwargs.setdefault("follow_redirects", True)  # as a browser does (and Litestar's test client)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.app = app


@contextlib.asynccontextmanager
async def running(app: Litestar, *, base_url: str = BASE_URL, **kwargs: Any) -> AsyncIterator[AppClient]:
    """Start `app` (its lifespan) in this loop; a client for it; stop it on leaving.

    The lifespan runs in a task of its own: its task groups must be left in the task that entered them,
    and pytest-asyncio may set a fixture up and tear it down in different tasks."""
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with app.lifespan():
                started.set_result(None)
                await stop.wait()
        except BaseException as exc:
            if not started.done():  # the app did not start: its own error, not the task group's wrapper of it
                while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
                    exc = exc.exceptions[0]
                started.set_exception(exc)
                return
            raise

    task = asyncio.create_task(serve())
    try:
        await started
        async with another_browser(app, base_url=base_url, **kwargs) as client:
            yield client
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def another_browser(app: Litestar, *, base_url: str = BASE_URL, **kwargs: Any) -> AsyncIterator[AppClient]:
    """A second client (its own cookies) for an app that is already running: it does not start the app again."""
    async with AppClient(app, base_url=base_url, **kwargs) as client:
        yield client
