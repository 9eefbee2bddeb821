"""The running app for the Open311 tests: uvicorn serving bot.web's ASGI app on a free port (its lifespan builds
the bot on the test's database), and an HTTP client for /open311/v2."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from xml.etree import ElementTree

import httpx
import pytest
import uvicorn

from bot.settings import Settings
from bot.web import create_app

KEY, CLIENT = "test-key-4f1c", "cityportal"


@dataclass
class Running:
    url: str  # the API's base, http://127.0.0.1:PORT/open311/v2
    app: object  # bot.service.App, as the lifespan built it
    client: httpx.AsyncClient


@pytest.fixture
async def api(database, tmp_path):
    settings = Settings.from_env({**database.env(tmp_path), "PIKIR_OPEN311_KEYS": f"{CLIENT}:{KEY},other:second-key"})
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/open311/v2"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Running(url, app.state.pikir, client)
    finally:
        server.should_exit = True
        await serving


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


def records(response: httpx.Response, fmt: str) -> list[dict]:
    """A JSON or XML body as the same list of records (XML text, so numbers come back as strings)."""
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        return response.json()
    return [{field.tag: field.text for field in item} for item in xml(response)]


def assert_error(response: httpx.Response, fmt: str, status: int, *fragments: str) -> list[str]:
    """The spec's error body: [{"code": 400, "description": …}] or <errors><error><code>400</code>…."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and all(e.tag == "error" for e in root)
    errors = records(response, fmt)
    assert errors and all(int(e["code"]) == status for e in errors), errors
    descriptions = [e["description"] for e in errors]
    for fragment in fragments:
        assert any(fragment in d for d in descriptions), (fragment, descriptions)
    return descriptions
