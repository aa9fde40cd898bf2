"""A department's callback receiver: a real HTTP server on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        self.arrived.set()
        writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def wait_for(self, n: int, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while len(self.received) < n:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(deadline - time.monotonic(), 0.01))


async def register(client: Any, headers: dict[str, str], url: str) -> str:
    r = await client.put("/api/v1/callback", headers=headers, json={"url": url})
    assert r.status_code == 200, r.text
    secret: str = r.json()["secret"]
    return secret
