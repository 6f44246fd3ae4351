"""A checklist sent on a citizen's request reaches the SMS gateway with the printable page's link;
one contact gets a few a day, an unknown service or a malformed contact is refused with a reason."""

from __future__ import annotations

from typing import Any

import httpx
from notifier.main import create_app
from servicekit.testing import Publisher, eventually

from .conftest import SmsGateway, serving
from .test_notifier_on_real_kafka import OFFICE, PHONE, publish_catalog, settings_for


async def test_a_checklist_goes_by_sms_with_its_printable_link_a_few_times_a_day(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, checklists_per_contact_per_day=2)
    await publish_catalog(publisher)
    request = {"office_id": OFFICE, "service_id": "housing-certificate", "contact": PHONE, "language": "tt"}
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:

        async def catalog_known() -> bool:
            return (await client.post("/checklists/send", json=request)).status_code == 202

        await eventually(catalog_known)
        text = (await eventually(lambda: sms_gateway.texts_to(PHONE)))[0]
        assert "документлар" in text and "Паспорт" in text
        assert "/api/catalog/services/housing-certificate/checklist.html?lang=tt" in text
        second = await client.post("/checklists/send", json={**request, "contact": "+7 (999) 123-45-67"})
        third = await client.post("/checklists/send", json=request)
        assert second.status_code == 202 and third.status_code == 429, third.text
        assert third.json()["error"] == "TooManyChecklists" and "ask again tomorrow" in third.json()["reason"]
        unknown = await client.post("/checklists/send", json={**request, "service_id": "moon-landing"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "ChecklistNotOffered"
        malformed = await client.post("/checklists/send", json={**request, "contact": "call me"})
        assert malformed.status_code == 422 and malformed.json()["fields"][0]["field"] == "contact"


async def test_a_checklist_past_the_contact_s_daily_message_cap_is_a_429_with_the_reason(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, max_messages_per_recipient_per_day=1)
    await publish_catalog(publisher)
    request = {"office_id": OFFICE, "service_id": "housing-certificate", "contact": PHONE, "language": "ru"}
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:

        async def catalog_known() -> bool:
            return (await client.post("/checklists/send", json=request)).status_code == 202

        await eventually(catalog_known)
        capped = await client.post("/checklists/send", json=request)
        assert capped.status_code == 429, capped.text
        assert capped.json()["error"] == "TooManyChecklists"
        assert "all 1 messages one day allows" in capped.json()["reason"]
        assert len(await eventually(lambda: sms_gateway.texts_to(PHONE))) == 1
