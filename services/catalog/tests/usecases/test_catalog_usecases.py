"""The catalog's use cases on in-memory stand-ins (servicekit.fakes): no broker, no store process."""

from __future__ import annotations

import asyncio

import pytest
from catalog.domain import LetterTaken, OfficeSpec, ServiceSpec, StaleVersion
from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog
from contracts.samples import sample_office, sample_service
from servicekit.fakes import memory_db

OFFICE = "kzn-kirov-moskov"


@pytest.fixture
async def catalog() -> Catalog:
    store = CatalogStore(memory_db())
    await store.ensure_indexes()
    catalog = Catalog(store, Settings.model_validate({"ONEWINDOW_JWT_SECRET": "usecase-tests-" + "x" * 32}))
    office = sample_office(OFFICE)
    spec = OfficeSpec.model_validate(office.model_dump(exclude={"office_id", "version", "retired"}))
    await catalog.create_office(OFFICE, spec, by="test")
    return catalog


def service_spec(service_id: str = "housing-certificate", **changes: object) -> ServiceSpec:
    service = sample_service(service_id, office_id=OFFICE)
    return ServiceSpec.model_validate({**service.model_dump(exclude={"service_id", "version"}), **changes})


async def test_each_change_is_a_new_version_with_its_event_in_the_outbox(catalog: Catalog) -> None:
    created = await catalog.create_service("housing-certificate", service_spec(), by="test")
    changed = await catalog.update_service(
        "housing-certificate", service_spec(expected_minutes=12), version=1, by="test"
    )
    assert (created.version, changed.version) == (1, 2)
    doc = await catalog.store.services.get("housing-certificate")
    assert doc is not None
    events = [(entry["event"]["event_type"], entry["event"]["aggregate_version"]) for entry in doc["outbox"]]
    assert events[-1] == ("catalog.ServicePublished", 2)


async def test_two_admins_saving_the_same_version_one_wins_the_other_is_stale(catalog: Catalog) -> None:
    await catalog.create_service("housing-certificate", service_spec(), by="test")
    results = await asyncio.gather(
        *(
            catalog.update_service(
                "housing-certificate", service_spec(expected_minutes=m), version=1, by=f"a{m}"
            )
            for m in (11, 12)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ServiceRecord", "StaleVersion"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), StaleVersion)


async def test_a_ticket_letter_already_printed_in_the_office_is_refused(catalog: Catalog) -> None:
    await catalog.create_service("housing-certificate", service_spec(), by="test")
    with pytest.raises(LetterTaken):
        await catalog.create_service("social-benefit", service_spec("social-benefit"), by="test")
