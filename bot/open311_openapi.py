"""The OpenAPI 3.0 description of the Open311 API (served at /open311/v2/openapi.json), made from the deployment
so the service codes and the city's bounds in it are the ones the server checks. Every resource exists as `.json`
and `.xml`; errors are the spec's list of `{code, description}`."""
from __future__ import annotations

from handlers.complaints.flow import MAX_ADDRESS, MAX_TEXT, MIN_TEXT
from handlers.complaints.states import STATES
from handlers.deployment import LANGUAGES, Deployment

BASE = "/open311/v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
_S, _N, _B = {"type": "string"}, {"type": "number"}, {"type": "boolean"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _list_of(name: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


def _schemas(deployment: Deployment) -> dict:
    south, west, north, east = deployment.bounds
    request_fields = {
        "service_request_id": _S, "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _nullable(_S), "service_name": _S, "service_code": _S, "description": _S,
        "agency_responsible": _nullable(_S), "service_notice": _nullable(_S), "requested_datetime": _S,
        "updated_datetime": _S, "expected_datetime": _nullable(_S), "address": _nullable(_S),
        "address_id": _nullable(_S), "zipcode": _nullable(_S), "lat": _nullable(_N), "long": _nullable(_N),
        "media_url": _nullable(_S),
    }
    return {
        "Error": {"type": "object", "required": ["code", "description"],
                  "properties": {"code": {"type": "integer"}, "description": _S}},
        "Service": {
            "type": "object", "required": ["service_code", "service_name", "metadata", "type"],
            "properties": {"service_code": _S, "service_name": _S, "description": _S, "metadata": _B,
                           "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                           "keywords": _S, "group": _nullable(_S)},
        },
        "ServiceDefinition": {"type": "object", "required": ["service_code", "attributes"],
                              "properties": {"service_code": _S, "attributes": {"type": "array", "items": {}}}},
        "ServiceRequest": {
            "type": "object", "properties": request_fields,
            "required": ["service_request_id", "status", "service_code", "description", "requested_datetime",
                         "updated_datetime"],
            "description": "A complaint as the public sees it: personal data in the text masked, no reporter.",
        },
        "Created": {"type": "object", "required": ["service_request_id"],
                    "properties": {"service_request_id": _S, "token": _S, "service_notice": _nullable(_S),
                                   "account_id": _nullable(_S)}},
        "Token": {"type": "object", "required": ["service_request_id", "token"],
                  "properties": {"service_request_id": _S, "token": _S}},
        "NewRequest": {
            "type": "object", "required": ["api_key", "service_code", "description"],
            "description": "A location is required too: lat and long, or address_string, or address_id.",
            "anyOf": [{"required": ["lat", "long"]}, {"required": ["address_string"]}, {"required": ["address_id"]}],
            "properties": {
                "api_key": {"type": "string", "description": "one of the keys in PIKIR_OPEN311_KEYS"},
                "jurisdiction_id": {"type": "string", "enum": [deployment.jurisdiction_id]},
                "service_code": {"type": "string", "enum": [c.code for c in deployment.categories]},
                "description": {"type": "string", "minLength": MIN_TEXT, "maxLength": MAX_TEXT},
                "lat": {"type": "number", "minimum": south, "maximum": north},
                "long": {"type": "number", "minimum": west, "maximum": east},
                "address_string": {"type": "string", "minLength": 1, "maxLength": MAX_ADDRESS},
                "address_id": {"type": "string", "minLength": 1},
                "email": _S, "device_id": _S, "account_id": _S, "first_name": _S, "last_name": _S, "phone": _S,
                "media_url": _S, "locale": {"type": "string", "enum": list(LANGUAGES)},
            },
        },
        "StatusChange": {
            "type": "object", "required": ["api_key", "status"],
            "properties": {
                "api_key": _S, "jurisdiction_id": {"type": "string", "enum": [deployment.jurisdiction_id]},
                "status": {"type": "string", "enum": list(STATES)},
                "status_notes": {"type": "string", "maxLength": MAX_TEXT,
                                 "description": "shown to the citizen; required when the status is rejected"},
                "locale": {"type": "string", "enum": list(LANGUAGES)},
            },
        },
    }


def _query(name: str, description: str, schema: dict = _S) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, schema: dict = _S) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation(name: str, fmt: str, summary: str, ok: str | None, fails: dict[int, str], parameters=(),
               body: str | None = None, extension: bool = False) -> dict:
    def content(schema_name: str | None) -> dict:
        if fmt == "xml":
            return {FORMATS[fmt]: {"schema": {"type": "string"}}}
        return {FORMATS[fmt]: {"schema": _list_of(schema_name) if schema_name else
                               {"$ref": "#/components/schemas/ServiceDefinition"}}}

    responses = {"200": {"description": "OK", "content": content(ok)}}
    for status, why in fails.items():
        responses[str(status)] = {"description": why, "content": content("Error")}
    operation = {"operationId": f"{name}_{fmt}", "summary": summary, "parameters": list(parameters),
                 "responses": responses}
    if body:
        ref = {"$ref": f"#/components/schemas/{body}"}
        operation["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": ref}, "application/json": {"schema": ref}}}
    if extension:
        operation["x-open311-extension"] = True
        operation["tags"] = ["extension"]
    return operation


def spec(deployment: Deployment) -> dict:
    codes = [c.code for c in deployment.categories]
    jurisdiction = _query("jurisdiction_id", f"optional; this server serves {deployment.jurisdiction_id}")
    common = [jurisdiction, _query("locale", "language of service names", {"type": "string", "enum": list(LANGUAGES)})]
    filters = [
        _query("service_request_id", "comma-separated ids (tracking numbers); the other filters then do not apply"),
        _query("service_code", "comma-separated service codes"),
        _query("status", "comma-separated: open, closed"),
        _query("start_date", "ISO 8601 with offset; without dates, the last 90 days"),
        _query("end_date", "ISO 8601 with offset"),
    ]
    paths: dict = {}
    for fmt in FORMATS:
        paths[f"/services.{fmt}"] = {"get": _operation(
            "getServices", fmt, "The service types (complaint categories)", "Service",
            {400: "locale not valid", 404: "jurisdiction_id not found"}, common)}
        paths[f"/services/{{service_code}}.{fmt}"] = {"get": _operation(
            "getServiceDefinition", fmt, "A service definition", None,
            {404: "service_code or jurisdiction_id not found"},
            [_path("service_code", {"type": "string", "enum": codes}), jurisdiction])}
        paths[f"/requests.{fmt}"] = {
            "get": _operation("getRequests", fmt, "Service requests, newest first (at most 1000)", "ServiceRequest",
                              {400: "a filter is not valid", 404: "jurisdiction_id not found"}, [*filters, *common]),
            "post": _operation("postRequest", fmt, "Submit a service request", "Created",
                               {400: "a field is missing or not valid", 403: "api_key not provided or invalid"},
                               body="NewRequest"),
        }
        paths[f"/requests/{{service_request_id}}.{fmt}"] = {
            "get": _operation("getRequest", fmt, "One service request", "ServiceRequest",
                              {400: "locale not valid", 404: "service_request_id or jurisdiction_id not found"},
                              [_path("service_request_id"), *common]),
            "post": _operation("changeStatus", fmt,
                               "Extension (not in GeoReport v2): change the status of a request (staff)",
                               "ServiceRequest", {400: "status not valid, or a change not allowed",
                                                  403: "api_key not provided or invalid",
                                                  404: "service_request_id not found"},
                               [_path("service_request_id")], body="StatusChange", extension=True),
        }
        paths[f"/tokens/{{token}}.{fmt}"] = {"get": _operation(
            "getToken", fmt, "The service_request_id of a token", "Token", {404: "token or jurisdiction_id not found"},
            [_path("token"), jurisdiction])}
    # What a new request's JSON answer leads to (OpenAPI links; schemathesis follows them in its stateful phase).
    new_id = {"service_request_id": "$response.body#/0/service_request_id"}
    paths["/requests.json"]["post"]["responses"]["200"]["links"] = {
        **{f"{op}_{fmt}": {"operationId": f"{op}_{fmt}", "parameters": new_id}
           for op in ("getRequest", "changeStatus") for fmt in FORMATS},
        **{f"getToken_{fmt}": {"operationId": f"getToken_{fmt}", "parameters": {"token": "$response.body#/0/token"}}
           for fmt in FORMATS},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Pikir Open311 GeoReport v2 — {deployment.name('en')}", "version": "2",
            "description": "GeoReport v2 (https://wiki.open311.org/GeoReport_v2) over the city's complaints. Public "
                           "responses mask personal data and never name the reporter. POST /requests/{id} is an "
                           "extension for city systems (api_key required).",
        },
        "servers": [{"url": BASE}],
        "paths": paths,
        "components": {"schemas": _schemas(deployment)},
    }
