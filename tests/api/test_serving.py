"""How uvicorn serves the API: a payer's pause between pages does not cost their connection."""

from __future__ import annotations

import asyncio
import socket

from fastapi import FastAPI

from api.__main__ import uvicorn_options
from settings import Settings
from tests.support import served

REQUEST = b"GET /ping HTTP/1.1\r\nHost: shebao\r\n\r\n"


async def _answer(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return head + await reader.readexactly(length)


async def test_a_connection_idle_for_a_payers_pause_is_still_open() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    options = uvicorn_options(Settings(env="test"))
    del options["host"], options["port"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        async with served(app, sock, log_level="warning", **options):
            reader, writer = await asyncio.open_connection(*sock.getsockname())
            writer.write(REQUEST)
            assert (await _answer(reader)).startswith(b"HTTP/1.1 200")
            # Longer than uvicorn's default keep-alive (5 s), as long as a payer reads a page.
            await asyncio.sleep(6)
            writer.write(REQUEST)
            assert (await _answer(reader)).startswith(b"HTTP/1.1 200")
            writer.close()
    finally:
        sock.close()
