"""Scenario helpers for the feedback integration tests: realistic ticketing events, API polling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from contracts import Envelope, EventData, new_event
from contracts.catalog import OfficeConfigured, ServicePublished
from contracts.samples import sample_office, sample_service
from contracts.ticketing import (
    ServiceCompleted,
    ServiceStarted,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
    WindowOpened,
)
from servicekit.testing import eventually

OFFICE = "kzn-kirov-moskov"
SERVICE_ONLINE = "housing-certificate"
SERVICE_OFFLINE = "pension-docs"


def catalog_events(office_id: str = OFFICE) -> list[Envelope]:
    office: OfficeConfigured = sample_office(office_id, all_day=True)
    online: ServicePublished = sample_service(SERVICE_ONLINE, office_id=office_id, online=True)
    offline: ServicePublished = sample_service(SERVICE_OFFLINE, letter="П", office_id=office_id, online=False)
    return [
        new_event(
            office, producer="catalog", office_id=office_id, aggregate_id=office_id, aggregate_version=1
        ),
        *(
            new_event(
                s, producer="catalog", office_id=office_id, aggregate_id=s.service_id, aggregate_version=1
            )
            for s in (online, offline)
        ),
    ]


@dataclass
class Ticket:
    """One ticket's life, written as the ticketing service would publish it."""

    ticket_id: str
    number: str
    service_id: str
    issued_at: datetime
    day: date
    office_id: str = OFFICE
    channel: str = "kiosk"
    appointment_id: str | None = None
    token_digest: str | None = None  # of the ticket's own link (the rating link printed on it)
    contact_sealed: str | None = None  # the phone or e-mail given at issue (opaque to feedback)
    events: list[Envelope] = field(default_factory=list)
    clock: datetime = field(init=False)
    version: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.clock = self.issued_at
        self._emit(
            TicketIssued(
                ticket_id=self.ticket_id,
                number=self.number,
                service_id=self.service_id,
                service_ids=[self.service_id],
                zone_id="z1",
                channel=self.channel,  # type: ignore[arg-type]
                appointment_id=self.appointment_id,
                local_day=self.day,
                issued_at=self.issued_at,
                position=1,
                estimated_wait_minutes=5,
                citizen_token_digest=self.token_digest,
                contact_sealed=self.contact_sealed,
            )
        )

    def _emit(self, data: EventData, after_seconds: int = 0) -> Ticket:
        self.clock += timedelta(seconds=after_seconds)
        self.version += 1
        self.events.append(
            new_event(
                data,
                producer="ticketing",
                office_id=self.office_id,
                aggregate_id=self.ticket_id,
                aggregate_version=self.version,
                correlation_id=f"visit-{self.ticket_id}",
                occurred_at=self.clock,
            )
        )
        return self

    def _ids(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "number": self.number, "service_id": self.service_id}

    def called(self, *, wait: int, window: int, operator: str, call_no: int = 1) -> Ticket:
        return self._emit(
            TicketCalled(
                **self._ids(),
                window_no=window,
                zone_id="z1",
                call_no=call_no,
                operator_ref=operator,
                waited_seconds=wait,
                appointment_id=self.appointment_id,
            ),
            after_seconds=wait if call_no == 1 else 60,
        )

    def served(
        self,
        *,
        wait: int,
        service: int,
        window: int,
        operator: str,
        outcome: str = "served",
        next_service_id: str | None = None,
    ) -> Ticket:
        self.called(wait=wait, window=window, operator=operator)
        self._emit(ServiceStarted(**self._ids(), window_no=window, operator_ref=operator), after_seconds=30)
        self._emit(
            ServiceCompleted(
                **self._ids(),
                window_no=window,
                zone_id="z1",
                operator_ref=operator,
                outcome=outcome,
                waited_seconds=wait,
                service_seconds=service,  # type: ignore[arg-type]
                channel=self.channel,
                appointment_id=self.appointment_id,  # type: ignore[arg-type]
                next_service_id=next_service_id,
            ),
            after_seconds=service,
        )
        if next_service_id is not None:
            self.service_id = next_service_id
        return self

    def transferred(self, *, to_service_id: str, window: int, reason: str) -> Ticket:
        self._emit(
            TicketTransferred(
                **self._ids(), to_service_id=to_service_id, to_zone_id="z2", window_no=window, reason=reason
            ),
            after_seconds=10,
        )
        self.service_id = to_service_id
        return self

    def no_show(self, *, window: int, operator: str) -> Ticket:
        self.called(wait=400, window=window, operator=operator)
        self.called(wait=520, window=window, operator=operator, call_no=2)
        return self._emit(TicketNoShow(**self._ids(), window_no=window, calls=2), after_seconds=120)

    def cancelled(self) -> Ticket:
        return self._emit(TicketCancelled(**self._ids(), reason="citizen"), after_seconds=200)


def window_opened(window: int, operator: str, at: datetime, office_id: str = OFFICE) -> Envelope:
    return new_event(
        WindowOpened(window_no=window, zone_id="z1", operator_ref=operator, service_ids=[SERVICE_ONLINE]),
        producer="ticketing",
        office_id=office_id,
        aggregate_id=f"{office_id}:{window}",
        aggregate_version=1,
        occurred_at=at,
    )


async def get_json(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def catalog_arrived(app: Any, services: int = 2) -> None:
    """Catalog topics are read concurrently with the ticket topics: wait until the view has them."""
    view = app.state.store.catalog
    await eventually(lambda: view.services.count_documents({}), lambda n: n >= services)
    await eventually(lambda: view.offices.count_documents({}), lambda n: n >= 1)
