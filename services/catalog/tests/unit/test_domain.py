"""Catalog rules without I/O: versions, ticket letters, zones, checklists, office consistency."""

from __future__ import annotations

import pytest
from catalog import domain
from catalog.domain import OfficeSpec, ServiceSpec
from contracts.catalog import Offering, OfficeConfigured, ServicePublished
from contracts.samples import sample_office, sample_service


def spec_of(service: ServicePublished, **changes: object) -> ServiceSpec:
    return ServiceSpec.model_validate({**service.model_dump(exclude={"service_id", "version"}), **changes})


def office_spec(office: OfficeConfigured, **changes: object) -> OfficeSpec:
    return OfficeSpec.model_validate(
        {**office.model_dump(exclude={"office_id", "version", "retired"}), **changes}
    )


OFFICES = {"kzn-kirov-moskov": sample_office()}


def publish(
    service: ServicePublished, *, others: list[ServicePublished] = (), **changes: object
) -> ServicePublished:  # type: ignore[assignment]
    return domain.publish_service(
        service.service_id,
        spec_of(service, **changes),
        current=None,
        expected_version=None,
        offices=OFFICES,
        active_services=others,
    )


def test_a_new_service_starts_at_version_one_and_each_change_adds_one() -> None:
    first = publish(sample_service())
    second = domain.publish_service(
        first.service_id,
        spec_of(first, expected_minutes=12),
        current=first,
        expected_version=1,
        offices=OFFICES,
        active_services=[first],
    )
    assert (first.version, second.version, second.expected_minutes) == (1, 2, 12)


def test_an_update_of_an_older_version_is_refused_with_the_current_one() -> None:
    first = publish(sample_service())
    second = domain.publish_service(
        first.service_id,
        spec_of(first),
        current=first,
        expected_version=1,
        offices=OFFICES,
        active_services=[],
    )
    with pytest.raises(domain.StaleVersion) as refused:
        domain.publish_service(
            first.service_id,
            spec_of(first),
            current=second,
            expected_version=1,
            offices=OFFICES,
            active_services=[],
        )
    assert refused.value.details == {"current_version": 2}


def test_a_letter_used_by_another_service_in_the_same_office_is_refused() -> None:
    holder = publish(sample_service("passport", letter="П"))
    with pytest.raises(domain.LetterTaken) as refused:
        publish(sample_service("snils", letter="П"), others=[holder])
    assert refused.value.details["used_by"] == "passport"


def test_the_same_letter_in_another_office_is_fine() -> None:
    offices = {**OFFICES, "kzn-vakhitov": sample_office("kzn-vakhitov")}
    holder = sample_service("passport", letter="П", office_id="kzn-vakhitov")
    published = domain.publish_service(
        "snils",
        spec_of(sample_service("snils", letter="П")),
        current=None,
        expected_version=None,
        offices=offices,
        active_services=[holder],
    )
    assert published.letter == "П"


def test_an_unknown_zone_is_named_in_the_error() -> None:
    with pytest.raises(domain.InvalidField) as refused:
        publish(sample_service(), offerings=[Offering(office_id="kzn-kirov-moskov", zone_id="z9")])
    assert refused.value.details["fields"][0]["field"] == "offerings.0.zone_id"


def test_an_unknown_office_is_named_in_the_error() -> None:
    with pytest.raises(domain.InvalidField) as refused:
        publish(sample_service(), offerings=[Offering(office_id="nowhere", zone_id="z1")])
    assert refused.value.details["fields"][0]["field"] == "offerings.0.office_id"


def test_an_online_alternative_without_a_link_is_refused() -> None:
    with pytest.raises(domain.InvalidField, match=r"online\.url"):
        publish(sample_service(), online={"available": True, "url": None})


def test_a_retired_service_is_not_changed_again() -> None:
    first = publish(sample_service())
    retired = domain.retire_service(first, retired=False, expected_version=1, reason="moved to the MFC")
    assert retired.version == 2
    with pytest.raises(domain.AlreadyRetired):
        domain.retire_service(first, retired=True, expected_version=2, reason=None)


def test_a_window_in_two_zones_is_refused_naming_the_second() -> None:
    office = sample_office()
    zones = [zone.model_dump() for zone in office.zones]
    zones[1]["windows"] = [3, 4]
    with pytest.raises(domain.InvalidField) as refused:
        domain.validate_office(office_spec(office, zones=zones))
    assert refused.value.details["fields"][0]["field"] == "zones.1.windows.0"


def test_closing_before_opening_is_refused() -> None:
    office = sample_office()
    hours = [{"weekday": 0, "open": "18:00", "close": "08:00"}]
    with pytest.raises(domain.InvalidField, match=r"hours\.0\.close"):
        domain.validate_office(office_spec(office, hours=hours))


def test_window_schedules_name_known_windows_once_with_sane_hours() -> None:
    office = sample_office()
    day = {"weekday": 0, "open": "09:00", "close": "13:00", "breaks": [{"start": "11:00", "end": "11:15"}]}
    fine = office_spec(office, window_schedules=[{"window_no": 2, "days": [day]}])
    domain.validate_office(fine)
    with pytest.raises(domain.InvalidField, match=r"window_schedules\.0\.window_no") as unknown:
        domain.validate_office(office_spec(office, window_schedules=[{"window_no": 99, "days": [day]}]))
    assert "no window 99" in str(unknown.value)
    twice = [{"window_no": 2, "days": [day]}, {"window_no": 2, "days": []}]
    with pytest.raises(domain.InvalidField, match="two schedules"):
        domain.validate_office(office_spec(office, window_schedules=twice))
    outside = {**day, "breaks": [{"start": "14:00", "end": "14:30"}]}
    with pytest.raises(domain.InvalidField, match=r"window_schedules\.0\.days\.0\.breaks\.0"):
        domain.validate_office(office_spec(office, window_schedules=[{"window_no": 2, "days": [outside]}]))


def test_removing_a_zone_that_still_handles_services_is_refused() -> None:
    office = sample_office()
    in_z4 = sample_service("ready-documents", zone_id="z4")
    with pytest.raises(domain.StillInUse) as refused:
        domain.configure_office(
            office.office_id,
            office_spec(office, zones=office.zones[:3]),
            current=office,
            expected_version=1,
            services_here=[in_z4],
        )
    assert refused.value.details["service_ids"] == ["ready-documents"]


def test_an_office_with_active_services_cannot_be_retired() -> None:
    office = sample_office()
    with pytest.raises(domain.StillInUse):
        domain.retire_office(office, expected_version=1, services_here=[sample_service()])
    assert domain.retire_office(office, expected_version=1, services_here=[]).retired
