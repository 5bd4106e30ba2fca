"""Requests straight through an ASGI app (a middleware and a stand-in for Streamlit behind it), without an HTTP
client library: what the middleware tests send and read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class Got:
    status_code: int
    headers: dict[str, str]
    content: bytes


class Client:
    """Requests straight through the ASGI app (no HTTP client library needed); the body as sent."""

    def __init__(self, app) -> None:
        self.app = app

    def _request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Got:
        path, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": query.encode("latin-1"),
                 "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()],
                 "server": ("test", 80), "client": ("test", 1)}
        sent: list[dict] = []

        async def run() -> None:
            done, asked = asyncio.Event(), []

            async def receive() -> dict:
                if not asked:
                    asked.append(True)
                    return {"type": "http.request", "body": b"", "more_body": False}
                await done.wait()
                return {"type": "http.disconnect"}

            async def send(message: dict) -> None:
                sent.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    done.set()

            await self.app(scope, receive, send)

        asyncio.run(run())
        start = next(m for m in sent if m["type"] == "http.response.start")
        heads = {k.decode("latin-1").title(): v.decode("latin-1") for k, v in start["headers"]}
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Got(start["status"], heads, body)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Got:
        return self._request("GET", path, headers)

    def post(self, path: str, headers: dict[str, str] | None = None) -> Got:
        return self._request("POST", path, headers)
