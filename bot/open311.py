"""The Open311 GeoReport v2 API (https://wiki.open311.org/GeoReport_v2) over the city's complaints.

    GET  /open311/v2/services.{json,xml}                  the deployment's complaint categories
    GET  /open311/v2/services/{service_code}.{json,xml}   a service definition (no extra attributes)
    GET  /open311/v2/requests.{json,xml}                  filters service_request_id, service_code, status,
                                                          start_date, end_date (the last 90 days by default)
    POST /open311/v2/requests.{json,xml}                  file a complaint (api_key from PIKIR_OPEN311_KEYS)
    GET  /open311/v2/requests/{id}.{json,xml}             one complaint; the id is its tracking number
    POST /open311/v2/requests/{id}.{json,xml}             extension: staff status change (api_key, status, status_notes)
    GET  /open311/v2/tokens/{token}.{json,xml}            the service_request_id of a token
    GET  /open311/v2/openapi.json                         the OpenAPI description of all of the above

Everything public is masked (privacy.mask) and never says who filed a complaint: the reporter's contact details
sent with a POST are kept for staff only. A POST takes form fields as the spec says, or a JSON object.
"""
from __future__ import annotations

import hmac
import json
import math
import re
import secrets
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from bot.open311_openapi import BASE, spec
from bot.open311_render import MEDIA_TYPES, Open311Error, errors, render, timestamp
from handlers.complaints.flow import MAX_ADDRESS, MAX_TEXT, MIN_TEXT
from handlers.complaints.numbers import new_number, normalise
from handlers.complaints.privacy import mask
from handlers.complaints.records import ComplaintView, FileComplaint
from handlers.complaints.states import CLOSED_STATES, OPEN_STATES, STATES, TransitionError, open311_status
from handlers.deployment import BUILTIN, LANGUAGES
from storage import complaints
from storage.time import now

DEFAULT_DAYS, LIMIT, MAX_BODY, MAX_FIELD = 90, 1000, 64 * 1024, 200
PERSONAL = ("email", "first_name", "last_name", "phone", "device_id", "account_id")  # staff only
STATUSES = {"open": OPEN_STATES, "closed": CLOSED_STATES}
FIELDS = {"api_key", "jurisdiction_id", "service_code", "description", "lat", "long", "address_string", "address_id",
          "media_url", "locale", "status", "status_notes", *PERSONAL}  # what a POST reads
_SPACED_OFFSET = re.compile(r"(T[\d:.]+) (\d\d:?\d\d)$")  # a "+06:00" that arrived unencoded in a query


def routes() -> list[Route]:
    resources = [
        Route(f"{BASE}/openapi.json", _openapi, methods=["GET"]),
        Route(f"{BASE}/services.{{fmt}}", _endpoint(services), methods=["GET"]),
        Route(f"{BASE}/services/{{name}}", _endpoint(service_definition), methods=["GET"]),
        Route(f"{BASE}/requests.{{fmt}}", _endpoint(requests_get, requests_post), methods=["GET", "POST"]),
        Route(f"{BASE}/requests/{{name}}", _endpoint(request_get, request_post), methods=["GET", "POST"]),
        Route(f"{BASE}/tokens/{{name}}", _endpoint(token_get), methods=["GET"]),
    ]

    async def elsewhere(request: Request) -> Response:
        """Any other path or method: the spec's error (404, or 405 with Allow), not Starlette's plain text."""
        suffix = request.url.path.rpartition(".")[2]
        fmt = suffix if suffix in MEDIA_TYPES else "json"
        allowed = {m for r in resources if r.matches(request.scope)[0] == Match.PARTIAL for m in r.methods or ()}
        if not allowed:
            return errors(fmt, Open311Error(404, "no such Open311 resource"))
        response = errors(fmt, Open311Error(405, f"{request.method} is not allowed here"))
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    return [*resources, Route(f"{BASE}/{{rest:path}}", elsewhere, methods=every)]


def _endpoint(get, post=None):
    """The format from the path (`services.json`, `services/roads.xml`), and Open311Error as the spec's errors."""

    async def run(request: Request) -> Response:
        params = request.path_params
        fmt, name = params.get("fmt"), params.get("name")
        if fmt is None and name is not None:
            name, _, fmt = name.rpartition(".")
        fmt = fmt if fmt in MEDIA_TYPES else None
        handler = post if request.method == "POST" else get
        try:
            if fmt is None or (name is not None and not name):
                raise Open311Error(404, "no such resource: add .json or .xml to the path")
            return await handler(request, request.app.state.pikir, fmt, name)
        except Open311Error as error:
            return errors(fmt or "json", error)

    return run


async def _openapi(request: Request) -> Response:
    return JSONResponse(spec(request.app.state.pikir.deployment))


# -- services ------------------------------------------------------------------------------------------------------
async def services(request: Request, pikir, fmt: str, _name) -> Response:
    query = request.query_params
    _jurisdiction(pikir, query.get("jurisdiction_id"), 404)
    language = _language(pikir, query.get("locale"))
    keywords = _keywords(pikir.settings.city)
    records = [{
        "service_code": c.code, "service_name": c.name(language),
        "description": " / ".join(dict.fromkeys(c.name(lang) for lang in LANGUAGES)),
        "metadata": False, "type": "realtime", "keywords": ",".join(keywords.get(c.code, ())), "group": None,
    } for c in pikir.deployment.categories]
    return render(fmt, "services", "service", records)


async def service_definition(request: Request, pikir, fmt: str, code: str) -> Response:
    _jurisdiction(pikir, request.query_params.get("jurisdiction_id"), 404)
    if pikir.deployment.category(code) is None:
        raise Open311Error(404, f"service_code {code!r} was not found")
    return render(fmt, "service_definition", None, {"service_code": code, "attributes": []})


@lru_cache(maxsize=8)
def _keywords(city: str) -> dict[str, tuple[str, ...]]:
    """The categories' search words, which the deployment file has but the Deployment object does not keep."""
    path = Path(city) if Path(city).suffix else BUILTIN / f"{city}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {str(c["code"]): tuple(str(k) for k in c.get("keywords") or ()) for c in raw.get("categories") or ()}
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        return {}


# -- reading requests -------------------------------------------------------------------------------------------
async def requests_get(request: Request, pikir, fmt: str, _name) -> Response:
    query = request.query_params
    _jurisdiction(pikir, query.get("jurisdiction_id"), 404)
    language = _language(pikir, query.get("locale"))
    ids = _split(query.get("service_request_id"))
    if ids:  # the spec: with ids, the other filters do not apply
        numbers = [_number(pikir, i) for i in ids if _safe(i)]
        views = await complaints.query(pikir.engine, numbers=numbers, limit=LIMIT) if numbers else []
        return render(fmt, "service_requests", "request", [_public(pikir, v, language) for v in views])
    problems = []
    codes = _split(query.get("service_code"))
    problems += [f"service_code {c!r} was not found" for c in codes if pikir.deployment.category(c) is None]
    statuses = _split(query.get("status"))
    problems += [f"status {s!r} is not one of: open, closed" for s in statuses if s not in STATUSES]
    start = _date(query.get("start_date"), "start_date", problems)
    end = _date(query.get("end_date"), "end_date", problems)
    if start and end and start > end:
        problems.append("start_date is after end_date")
    if problems:
        raise Open311Error(400, *problems)
    if start is None:
        start = (end or now()) - timedelta(days=DEFAULT_DAYS)
    states = [state for s in dict.fromkeys(statuses) for state in STATUSES[s]] or None
    views = await complaints.query(pikir.engine, service_codes=codes or None, states=states, start=start, end=end,
                                   limit=LIMIT)
    return render(fmt, "service_requests", "request", [_public(pikir, v, language) for v in views])


async def request_get(request: Request, pikir, fmt: str, number: str) -> Response:
    _jurisdiction(pikir, request.query_params.get("jurisdiction_id"), 404)
    language = _language(pikir, request.query_params.get("locale"))
    return render(fmt, "service_requests", "request", [_public(pikir, await _find(pikir, number), language)])


async def token_get(request: Request, pikir, fmt: str, token: str) -> Response:
    _jurisdiction(pikir, request.query_params.get("jurisdiction_id"), 404)
    number = await complaints.by_token(pikir.engine, token) if _safe(token) else None
    if number is None:
        raise Open311Error(404, f"token {token!r} was not found")
    return render(fmt, "service_requests", "request", [{"service_request_id": number, "token": token}])


async def _find(pikir, number: str) -> ComplaintView:
    views = await complaints.query(pikir.engine, numbers=[_number(pikir, number)], limit=1) if _safe(number) else []
    if not views:
        raise Open311Error(404, f"service_request_id {number!r} was not found")
    return views[0]


def _public(pikir, view: ComplaintView, language: str) -> dict:
    """What anyone may read: masked text, no reporter, no photo (a citizen's photo may show people)."""
    category = pikir.deployment.category(view.service_code)
    return {
        "service_request_id": view.number, "status": open311_status(view.state), "status_notes": mask(view.state_note),
        "service_name": category.name(language) if category else view.service_code, "service_code": view.service_code,
        "description": mask(view.description), "agency_responsible": pikir.deployment.name(language),
        "service_notice": None, "requested_datetime": timestamp(view.created_at),
        "updated_datetime": timestamp(view.updated_at), "expected_datetime": None, "address": mask(view.address),
        "address_id": None, "zipcode": None, "lat": view.latitude, "long": view.longitude, "media_url": None,
    }


# -- writing --------------------------------------------------------------------------------------------------------
async def requests_post(request: Request, pikir, fmt: str, _name) -> Response:
    fields = await _fields(request)
    client = _client(pikir, fields)
    _jurisdiction(pikir, fields.get("jurisdiction_id"), 400)
    problems: list[str] = []
    code = fields.get("service_code", "").strip()
    if not code:
        problems.append("service_code was not provided")
    elif pikir.deployment.category(code) is None:
        problems.append(f"service_code {code!r} was not found")
    description = fields.get("description", "").strip()
    if not description:
        problems.append("description was not provided")
    elif not MIN_TEXT <= len(description) <= MAX_TEXT:
        problems.append(f"description must be {MIN_TEXT} to {MAX_TEXT} characters long")
    latitude, longitude, address = _location(pikir, fields, problems)
    if problems:
        raise Open311Error(400, *problems)
    personal = {k: fields[k].strip()[:MAX_FIELD] for k in PERSONAL if fields.get(k, "").strip()}
    if fields.get("media_url", "").strip():
        personal["media_url"] = fields["media_url"].strip()[:MAX_TEXT]  # staff only, like the chat's photos
    at = now()
    number = new_number(pikir.deployment.country, at.year)
    while await complaints.query(pikir.engine, numbers=[number], limit=1):  # 1 in 10^8; cheap to rule out
        number = new_number(pikir.deployment.country, at.year)
    record = FileComplaint(
        number=number, token=secrets.token_hex(8), service_code=code, description=description, photo=None,
        latitude=latitude, longitude=longitude, address=address,
        language=_language(pikir, fields.get("locale")),
    )
    async with pikir.engine.begin() as connection:
        await complaints.file(connection, record, reporter=None, source="open311", at=at, client=client,
                              personal=personal or None)
    notice = f"Registered as {number}; the city service will review it."
    return render(fmt, "service_requests", "request", [
        {"service_request_id": number, "token": record.token, "service_notice": notice, "account_id": None}])


async def request_post(request: Request, pikir, fmt: str, number: str) -> Response:
    """Extension (GeoReport v2 has no status change): a city system moves a complaint to one of our states."""
    fields = await _fields(request)
    client = _client(pikir, fields)
    _jurisdiction(pikir, fields.get("jurisdiction_id"), 400)
    state, note = fields.get("status", "").strip(), fields.get("status_notes", "").strip() or None
    if state not in STATES:
        raise Open311Error(400, f"status must be one of: {', '.join(STATES)}")
    if note and len(note) > MAX_TEXT:
        raise Open311Error(400, f"status_notes must be at most {MAX_TEXT} characters long")
    if not _safe(number):
        raise Open311Error(404, f"service_request_id {number!r} was not found")
    language = _language(pikir, fields.get("locale"))
    try:
        view = await complaints.set_state(pikir.engine, _number(pikir, number), state, note, f"open311:{client}"[:64])
    except complaints.NotFound:
        raise Open311Error(404, f"service_request_id {number!r} was not found") from None
    except TransitionError as error:
        raise Open311Error(400, str(error)) from None
    return render(fmt, "service_requests", "request", [_public(pikir, view, language)])


async def _fields(request: Request) -> dict[str, str]:
    """The POST's fields: form-encoded (the spec) or a JSON object; api_key and the rest may also come in the query."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Open311Error(400, f"the request body is larger than {MAX_BODY} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Open311Error(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "the JSON body must be an object of fields")
        if any(isinstance(data.get(k), (dict, list)) for k in FIELDS):
            raise Open311Error(400, "the JSON fields must be strings or numbers")
        pairs = [(k, "" if v is None else str(v)) for k, v in data.items() if k in FIELDS]  # others are ignored
    elif kind in ("", "application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise Open311Error(400, "the body is not UTF-8") from None
    else:
        raise Open311Error(400, "send the fields as application/x-www-form-urlencoded (or a JSON object)")
    fields: dict[str, str] = {}
    for key, value in [*request.query_params.multi_items(), *pairs]:  # the body wins over the query
        if not _safe(value):
            raise Open311Error(400, f"{key} is not valid UTF-8 text")
        fields[key] = value
    return fields


def _client(pikir, fields: dict[str, str]) -> str:
    supplied = fields.get("api_key", "").encode()
    for key, name in pikir.settings.open311_keys.items():
        if supplied and hmac.compare_digest(supplied, key.encode()):
            return name
    raise Open311Error(403, "api_key was not provided or is invalid")


def _location(pikir, fields: dict[str, str], problems: list[str]) -> tuple[float | None, float | None, str | None]:
    lat, lon = fields.get("lat", "").strip(), fields.get("long", "").strip()
    address = fields.get("address_string", "").strip() or None
    address_id = fields.get("address_id", "").strip()
    if address and len(address) > MAX_ADDRESS:
        problems.append(f"address_string must be at most {MAX_ADDRESS} characters long")
    if address is None and address_id:
        address = f"address_id {address_id[:MAX_FIELD]}"
    if not lat and not lon:
        if address is None:
            problems.append("a location is required: lat and long, address_string or address_id")
        return None, None, address
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        problems.append("lat and long must both be given, as decimal degrees")
        return None, None, address
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not pikir.deployment.contains(latitude, longitude):
        problems.append(f"lat/long {lat}, {lon} is outside the area of {pikir.deployment.name('en')}")
    return latitude, longitude, address


# -- small helpers ------------------------------------------------------------------------------------------------
def _jurisdiction(pikir, value: str | None, status: int) -> None:
    if value and value != pikir.deployment.jurisdiction_id:
        raise Open311Error(status, f"jurisdiction_id {value!r} was not found")


def _language(pikir, locale: str | None) -> str:
    if not locale:
        return pikir.settings.default_language
    if locale not in LANGUAGES:
        raise Open311Error(400, f"locale must be one of: {', '.join(LANGUAGES)}")
    return locale


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _number(pikir, text: str) -> str:
    """A tracking number as people write it (any case, spaces, Cyrillic КЗ) in its stored form."""
    return normalise(text, pikir.deployment.country) or text


def _safe(text: str) -> bool:
    """Text the databases accept: no NUL, no lone surrogates (both would make PostgreSQL fail the query)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _date(value: str | None, name: str, problems: list[str]) -> datetime | None:
    if not value or not value.strip():
        return None
    text = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # the spec wants an offset; UTC when there is none
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        problems.append(f"{name} must be an ISO 8601 date and time, e.g. 2026-05-01T00:00:00+06:00")
        return None
