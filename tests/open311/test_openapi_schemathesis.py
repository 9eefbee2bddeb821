"""Schemathesis against the running app and its own openapi.json: generated requests (valid and invalid, JSON and
XML, form and JSON bodies) never get a server error, and every response has a documented status, content type and,
for JSON, the documented shape."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from storage import complaints
from tests.open311.conftest import KEY

# No server error; every status, content type and JSON body as documented; undocumented methods get 405 with Allow.
CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    "unsupported_method", "allow_header_conformance",
))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


async def test_schemathesis_finds_no_server_error(api, tmp_path):
    response = await api.client.get("openapi.json")
    assert response.status_code == 200
    document = response.json()
    # The generated POSTs use the test key, so they reach the validation and filing behind the api_key check.
    for body in ("NewRequest", "StatusChange"):
        document["components"]["schemas"][body]["properties"]["api_key"] = {"type": "string", "enum": [KEY]}
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(document, ensure_ascii=False))

    run = await asyncio.create_subprocess_exec(
        SCHEMATHESIS, "run", str(schema), "--url", api.url, "--checks", CHECKS, "--max-examples", "15",
        "--seed", "311", "--workers", "1", "--phases", "examples,coverage,fuzzing,stateful",
        "--generation-database", "none",
        "--request-timeout", "20", "--no-color", "--max-failures", "5",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(run.communicate(), timeout=240))[0].decode(errors="replace")
    assert run.returncode == 0, output[-6000:]
    assert "passed" in output.lower()
    # the generated valid POSTs really filed complaints through the API (else the run proved little)
    assert await complaints.query(api.app.engine), output[-3000:]
