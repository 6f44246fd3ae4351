"""The shipped demo catalog meets what the city runs on (DOMAIN.md) and the catalog's own rules."""

from __future__ import annotations

from collections import Counter
from datetime import date

from catalog import domain
from catalog.demo import demo_offices, demo_services
from catalog.demo.offices import EXPRESS_OFFICE
from contracts import calendar

OFFICES = demo_offices()
SERVICES = demo_services()


def test_there_are_at_least_60_services_and_47_of_them_online() -> None:
    assert len(SERVICES) >= 60
    assert sum(service.online.available for service in SERVICES) >= 47
    assert set(Counter(service.category for service in SERVICES)) == {"administrative", "municipal", "social"}


def test_the_seed_office_takes_47_municipal_services_that_have_an_online_alternative() -> None:
    municipal_online = [
        service
        for service in SERVICES
        if service.category == "municipal"
        and service.online.available
        and service.online.url
        and any(offering.office_id == EXPRESS_OFFICE for offering in service.offerings)
    ]
    assert len(municipal_online) >= 47
    assert all(service.online.url.startswith("https://") for service in municipal_online)


def test_the_express_office_has_four_acceptance_and_issuance_zones() -> None:
    express = next(office for office in OFFICES if office.office_id == EXPRESS_OFFICE)
    assert len(express.zones) == 4
    assert len(OFFICES) >= 4


def test_every_office_works_six_days_ten_hours_and_one_evening_until_eight() -> None:
    for office in OFFICES:
        days = [calendar.opening_on(office, date(2026, 3, 2 + offset)) for offset in range(7)]
        open_days = [day for day in days if day is not None]
        assert len(open_days) >= 6, office.office_id
        assert all((day.close - day.open).total_seconds() >= 10 * 3600 for day in open_days), office.office_id
        assert any(day.close.hour == 20 for day in open_days), office.office_id


def test_new_year_holidays_are_closed() -> None:
    for office in OFFICES:
        assert calendar.opening_on(office, date(2027, 1, 4)) is None
        assert calendar.opening_on(office, date(2026, 12, 31)) is None


def test_every_service_is_valid_with_unique_letters_per_office() -> None:
    offices = {office.office_id: office for office in OFFICES}
    accepted = []
    for service in SERVICES:
        spec = domain.ServiceSpec.model_validate(service.model_dump(exclude={"service_id", "version"}))
        accepted.append(
            domain.publish_service(
                service.service_id,
                spec,
                current=None,
                expected_version=None,
                offices=offices,
                active_services=accepted,
            )
        )
    assert len(accepted) == len(SERVICES)


def test_every_checklist_is_in_three_languages() -> None:
    for service in SERVICES:
        assert service.checklist, service.service_id
        assert service.title.tt and service.title.en, service.service_id
        for item in service.checklist:
            assert item.title.tt and item.title.en, (service.service_id, item.item_id)


def test_every_demo_service_is_described_in_russian_tatar_and_english() -> None:
    for service in SERVICES:
        assert service.description is not None, service.service_id
        assert service.description.tt and service.description.en, service.service_id
        assert service.description.tt != service.description.ru, service.service_id
