"""The Open311 GeoReport v2 API over HTTP against the running app, on SQLite and PostgreSQL: every endpoint in JSON
and XML, the spec's errors with their HTTP status, personal data masked in every public response (staff still
see it), and the status-change extension."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from storage import complaints
from tests.open311.conftest import CLIENT, KEY, assert_error, records, xml

FORMATS = ("json", "xml")
NUMBER = re.compile(r"^KZ-\d{4}-\d{4}-\d{4}$")
PHONE, EMAIL, IIN, PIN = "+7 701 123 45 67", "aigerim.s@mail.kz", "900101300123", "21505199000123"
PII = (PHONE, EMAIL, IIN, PIN, "Айгерим", "Сапарова", "+77011234567", "device-77", "acct-42")
DESCRIPTION = (f"Открытый люк во дворе, дети рядом. Звоните {PHONE} или пишите {EMAIL}. "
               f"Мой ИИН {IIN}, сосед из Бишкека, ПИН {PIN}.")
ABAY = {"lat": "43.2380", "long": "76.9450"}


def report(**fields) -> dict:
    return {"api_key": KEY, "service_code": "safety", "description": DESCRIPTION, **ABAY, **fields}


async def post(api, fmt="json", **fields) -> dict:
    response = await api.client.post(f"requests.{fmt}", data=report(**fields))
    assert response.status_code == 200, response.text
    [created] = records(response, fmt)
    assert NUMBER.match(created["service_request_id"]) and created["token"]
    return created


def assert_public(response) -> None:
    """A public body: none of the personal data that went in, and no field naming the reporter."""
    text = response.text
    for secret in PII:
        assert secret not in text, (secret, text)
    for field in ("email", "first_name", "last_name", "phone", "device_id", "account_id", "reporter"):
        assert f'"{field}"' not in text and f"<{field}>" not in text


async def test_services_and_definitions(api):
    codes = [c.code for c in api.app.deployment.categories]
    for fmt in FORMATS:
        response = await api.client.get(f"services.{fmt}")
        assert response.status_code == 200
        services = records(response, fmt)
        assert [s["service_code"] for s in services] == codes
        roads = services[0]
        assert roads["service_name"] == "Дороги и тротуары" and roads["type"] == "realtime"
        assert str(roads["metadata"]).lower() == "false" and "pothole" in roads["keywords"]
        english = records(await api.client.get(f"services.{fmt}", params={"locale": "en"}), fmt)
        assert english[0]["service_name"] == "Roads and pavements"
        # jurisdiction_id: the deployment's own is fine, another one is not found
        ok = await api.client.get(f"services.{fmt}", params={"jurisdiction_id": "almaty.kz"})
        assert ok.status_code == 200
        assert_error(await api.client.get(f"services.{fmt}", params={"jurisdiction_id": "bishkek.kg"}),
                     fmt, 404, "jurisdiction_id")

        definition = await api.client.get(f"services/water.{fmt}")
        assert definition.status_code == 200
        if fmt == "json":
            assert definition.json() == {"service_code": "water", "attributes": []}
        else:
            root = xml(definition)
            assert root.tag == "service_definition" and root.findtext("service_code") == "water"
        assert_error(await api.client.get(f"services/potholes.{fmt}"), fmt, 404, "service_code 'potholes'")
        assert_error(await api.client.get(f"services/water.{fmt}", params={"jurisdiction_id": "x"}), fmt, 404)


async def test_post_read_back_masked_and_staff_see_everything(api):
    personal = {"email": EMAIL, "first_name": "Айгерим", "last_name": "Сапарова", "phone": "+77011234567",
                "device_id": "device-77", "account_id": "acct-42"}
    made = {fmt: await post(api, fmt, **personal, jurisdiction_id="almaty.kz") for fmt in FORMATS}
    other = await post(api, address_string="ул. Абая 10", lat="", long="", description="Не горит фонарь у дома",
                       service_code="lighting")

    for fmt, created in made.items():
        number, token = created["service_request_id"], created["token"]
        assert created.get("account_id") in (None, "")  # the POST response names nobody either
        one = await api.client.get(f"requests/{number}.{fmt}")
        assert one.status_code == 200
        assert_public(one)
        [shown] = records(one, fmt)
        assert shown["service_request_id"] == number and shown["status"] == "open" and shown["service_code"] == "safety"
        assert shown["description"].startswith("Открытый люк во дворе") and shown["description"].count("***") == 4
        assert float(shown["lat"]) == 43.238 and float(shown["long"]) == 76.945
        assert shown["requested_datetime"].endswith("+00:00") and shown["updated_datetime"]
        assert (await api.client.get(f"requests/{number.replace('-', ' ').lower()}.{fmt}")).status_code == 200

        tokens = await api.client.get(f"tokens/{token}.{fmt}")
        assert tokens.status_code == 200
        assert records(tokens, fmt) == [{"service_request_id": number, "token": token}]
        assert_error(await api.client.get(f"tokens/{'0' * 16}.{fmt}"), fmt, 404, "token")

        listed = await api.client.get(f"requests.{fmt}")
        assert listed.status_code == 200
        assert_public(listed)
        items = records(listed, fmt)
        assert [i["service_request_id"] for i in items] == [
            other["service_request_id"], made["xml"]["service_request_id"], made["json"]["service_request_id"]]
        assert items[0]["address"] == "ул. Абая 10" and items[0]["lat"] in (None, "")
        if fmt == "xml":
            assert xml(listed).tag == "service_requests" and all(r.tag == "request" for r in xml(listed))

        # staff: the full text, the client and the reporter's contacts, and the complaint in the staff list
        staff = await complaints.staff_view(api.app.engine, number)
        assert staff.complaint.description == DESCRIPTION
        assert staff.source == "open311" and staff.client == CLIENT and staff.personal == personal
        assert staff.history[0][1] == "submitted" and staff.history[0][3] == "open311"
    staff_list = await complaints.query(api.app.engine)
    assert {v.number for v in staff_list} >= {c["service_request_id"] for c in made.values()}


async def test_post_accepts_a_json_body(api):
    text = "Мусор\x01 не вывозят\x0b неделю"  # control characters XML cannot carry: left out of the XML only
    response = await api.client.post("requests.json", json={**report(), "lat": 43.25, "long": 76.9, "description": text,
                                                            "unknown": {"ignored": True}})
    assert response.status_code == 200, response.text
    [created] = response.json()
    staff = await complaints.staff_view(api.app.engine, created["service_request_id"])
    assert (staff.complaint.latitude, staff.complaint.longitude, staff.complaint.description) == (43.25, 76.9, text)
    [shown] = records(await api.client.get(f"requests/{created['service_request_id']}.xml"), "xml")
    assert shown["description"] == "Мусор не вывозят неделю"
    assert_error(await api.client.post("requests.json", json={**report(), "description": ["a list"]}), "json", 400)
    broken = await api.client.post("requests.json", content=b"{not", headers={"content-type": "application/json"})
    assert_error(broken, "json", 400, "JSON")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_errors(api, fmt):
    async def posted(**fields):
        data = {k: v for k, v in report(**fields).items() if v is not None}
        return await api.client.post(f"requests.{fmt}", data=data)

    assert_error(await posted(api_key="wrong-key"), fmt, 403, "api_key")
    assert_error(await posted(api_key=None), fmt, 403, "api_key")
    assert_error(await posted(service_code="potholes"), fmt, 400, "service_code 'potholes' was not found")
    assert_error(await posted(jurisdiction_id="bishkek.kg"), fmt, 400, "jurisdiction_id")
    missing = assert_error(await api.client.post(f"requests.{fmt}", data={"api_key": KEY}), fmt, 400,
                           "service_code was not provided", "description was not provided", "location is required")
    assert len(missing) == 3
    assert_error(await posted(description="яма"), fmt, 400, "description must be 10 to 2000")
    assert_error(await posted(description="я" * 2001), fmt, 400, "description must be 10 to 2000")
    assert_error(await posted(lat="42.87", long="74.59"), fmt, 400, "outside")  # Bishkek, not Almaty
    assert_error(await posted(lat="43.2", long=None), fmt, 400, "lat and long")
    assert_error(await posted(lat="nan", long="76.9"), fmt, 400, "outside")
    assert_error(await api.client.post(f"requests.{fmt}", files={"api_key": (None, KEY)}), fmt, 400, "form")
    assert await complaints.query(api.app.engine) == []  # nothing was filed by any of these

    assert_error(await api.client.get(f"requests/KZ-2026-0000-0000.{fmt}"), fmt, 404, "service_request_id")
    assert_error(await api.client.get(f"requests/%00.{fmt}"), fmt, 404)
    created = await post(api)
    assert_error(await api.client.get(f"requests/{created['service_request_id']}.{fmt}",
                                      params={"jurisdiction_id": "bishkek.kg"}), fmt, 404, "jurisdiction_id")
    assert_error(await api.client.get(f"requests.{fmt}", params={"jurisdiction_id": "bishkek.kg"}), fmt, 404)


async def test_unknown_paths_and_formats_are_spec_errors(api):
    for path in ("services.html", "requests/KZ-2026-0000-0000", "nothing.json", "services/"):
        assert_error(await api.client.get(path), "json", 404)
    refused = await api.client.post("services.xml")
    assert_error(refused, "xml", 405)
    assert refused.headers["allow"] == "GET, HEAD"
    refused = await api.client.delete("requests.json")
    assert_error(refused, "json", 405)
    assert refused.headers["allow"] == "GET, HEAD, POST"


async def test_filters(api):
    roads = (await post(api, service_code="roads", description="Яма на дороге, глубокая"))["service_request_id"]
    water = (await post(api, service_code="water", description="Течёт вода из люка"))["service_request_id"]
    fixed = (await post(api, service_code="roads", description="Ещё одна яма у школы"))["service_request_id"]
    moved = await api.client.post(f"requests/{fixed}.json", data={"api_key": KEY, "status": "resolved",
                                                                 "status_notes": "Заделали"})
    assert moved.status_code == 200

    async def ids(fmt="json", **params) -> list[str]:
        response = await api.client.get(f"requests.{fmt}", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in records(response, fmt)]

    for fmt in FORMATS:
        assert await ids(fmt) == [fixed, water, roads]
        assert await ids(fmt, service_code="roads") == [fixed, roads]
        assert await ids(fmt, service_code="roads,water", status="open") == [water, roads]
        assert await ids(fmt, status="closed") == [fixed]
        assert await ids(fmt, status="open,closed") == [fixed, water, roads]
        assert await ids(fmt, service_request_id=f"{roads},{water}") == [water, roads]
        assert await ids(fmt, service_request_id="KZ-1999-0000-0000") == []
        hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
        tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+06:00")
        assert await ids(fmt, start_date=hour_ago, end_date=tomorrow) == [fixed, water, roads]
        assert await ids(fmt, start_date=tomorrow) == []
        assert await ids(fmt, end_date="2020-01-01T00:00:00Z") == []
        assert_error(await api.client.get(f"requests.{fmt}", params={"status": "pending"}), fmt, 400, "status")
        assert_error(await api.client.get(f"requests.{fmt}", params={"service_code": "potholes"}), fmt, 400,
                     "service_code")
        assert_error(await api.client.get(f"requests.{fmt}", params={"start_date": "yesterday"}), fmt, 400,
                     "start_date")
        assert_error(await api.client.get(f"requests.{fmt}", params={"start_date": tomorrow, "end_date": hour_ago}),
                     fmt, 400, "after")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_status_change_extension(api, fmt):
    number = (await post(api))["service_request_id"]

    async def change(**fields):
        return await api.client.post(f"requests/{number}.{fmt}", data={"api_key": KEY, **fields})

    moved = await change(status="in_progress", status_notes=f"Бригада выехала, телефон мастера {PHONE}")
    assert moved.status_code == 200, moved.text
    assert_public(moved)
    [shown] = records(moved, fmt)
    assert shown["status"] == "open" and shown["status_notes"] == "Бригада выехала, телефон мастера ***"
    [seen] = records(await api.client.get(f"requests/{number}.{fmt}"), fmt)
    assert seen["status"] == "open" and seen["status_notes"].startswith("Бригада выехала")

    assert (await change(status="resolved", status_notes="Люк закрыт")).status_code == 200
    [seen] = records(await api.client.get(f"requests/{number}.{fmt}"), fmt)
    assert seen["status"] == "closed" and seen["status_notes"] == "Люк закрыт"
    assert seen["updated_datetime"] >= seen["requested_datetime"]

    assert_error(await change(status="rejected"), fmt, 400, "cannot go from resolved to rejected")
    assert_error(await change(status="closed"), fmt, 400, "status must be one of")
    assert_error(await change(status="in_progress", api_key="wrong"), fmt, 403, "api_key")
    assert_error(await api.client.post(f"requests/KZ-2026-0000-0000.{fmt}",
                                       data={"api_key": KEY, "status": "resolved"}), fmt, 404)
    staff = await complaints.staff_view(api.app.engine, number)
    assert [step[1] for step in staff.history] == ["submitted", "in_progress", "resolved"]
    assert staff.history[1][2] == f"Бригада выехала, телефон мастера {PHONE}"  # staff read the note unmasked
    assert staff.history[1][3] == f"open311:{CLIENT}"


async def test_openapi_document_is_served(api):
    response = await api.client.get("openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.") and document["servers"] == [{"url": "/open311/v2"}]
    for fmt in FORMATS:
        assert set(document["paths"][f"/requests.{fmt}"]) == {"get", "post"}
        assert document["paths"][f"/requests/{{service_request_id}}.{fmt}"]["post"]["x-open311-extension"]
        assert f"/tokens/{{token}}.{fmt}" in document["paths"]
