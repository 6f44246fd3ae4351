"""Response shapes of the catalog's HTTP API, localized to the language the caller asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from contracts import calendar
from contracts.catalog import Offering, OfficeConfigured, OnlineAlternative, ServicePublished
from contracts.samples import sample_office, sample_service
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from servicekit.clock import SYSTEM_CLOCK

Lang = Literal["ru", "tt", "en"]

_OFFICE = sample_office()
_SERVICE = sample_service()
_OFFICE_SUMMARY: JsonDict = {
    "office_id": "kzn-kirov-moskov",
    "version": 3,
    "name": "Экспресс-офис Кировского и Московского районов",
    "address": "Казань, ул. Батурина, 7",
    "timezone": "Europe/Moscow",
    "open_now": True,
    "retired": False,
    "zones": 4,
    "windows": 12,
}
_ENTRY: JsonDict = {
    "item_id": "passport",
    "title": "Паспорт гражданина РФ",
    "original": True,
    "copies": 0,
    "notes": None,
    "exempt": "Дети до 14 лет — свидетельство о рождении",
}
_SERVICE_SUMMARY: JsonDict = {
    "service_id": "household-certificate",
    "version": 2,
    "code": "KZN-MUN-020",
    "letter": "МА",
    "category": "municipal",
    "title": "Справка о составе семьи",
    "description": "Кто зарегистрирован в квартире: для пособий, субсидий и школы",
    "expected_minutes": 10,
    "appointment_allowed": True,
    "online": {"available": True, "url": "https://uslugi.tatarstan.ru/"},
    "documents": 3,
    "zone_id": "z4",
}


class OfficeSummary(BaseModel):
    office_id: str = Field(examples=["kzn-kirov-moskov"])
    version: int = Field(examples=[3])
    name: str = Field(examples=["Экспресс-офис Кировского и Московского районов"])
    address: str = Field(examples=["Казань, ул. Батурина, 7"])
    timezone: str = Field(examples=["Europe/Moscow"])
    open_now: bool = Field(examples=[True])
    retired: bool = Field(default=False, examples=[False])
    zones: int = Field(examples=[4], description="Number of zones")
    windows: int = Field(examples=[12], description="Number of windows")

    model_config = ConfigDict(json_schema_extra={"examples": [_OFFICE_SUMMARY]})


class OfficeDetail(OfficeSummary):
    today: str | None = Field(examples=["08:00-20:00 (break 13:00-14:00)"], description="None = closed today")
    next_opening: AwareDatetime | None = Field(examples=["2026-03-02T05:00:00Z"])
    week: str = Field(examples=["Mon 08:00-18:00 (break 13:00-14:00); Sat 09:00-14:00"])
    issuing_now: bool = Field(
        default=False, examples=[True], description="Kiosks issue tickets now (open, before the cut-off)"
    )
    closes_at: AwareDatetime | None = Field(
        default=None, examples=["2026-03-02T15:00:00Z"], description="Today's closing; None = closed or 24/7"
    )
    issuing_stops_at: AwareDatetime | None = Field(
        default=None, examples=["2026-03-02T14:45:00Z"], description="Closing less the cut-off"
    )
    configuration: OfficeConfigured = Field(description="Everything the office publishes, in all languages")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": _OFFICE.office_id,
                    "version": 1,
                    "name": _OFFICE.name.ru,
                    "address": _OFFICE.address.ru,
                    "timezone": "Europe/Moscow",
                    "open_now": True,
                    "retired": False,
                    "zones": 4,
                    "windows": 12,
                    "today": "08:00-18:00 (break 13:00-14:00)",
                    "next_opening": "2026-03-02T05:00:00Z",
                    "week": calendar.describe_week(_OFFICE),
                    "issuing_now": True,
                    "closes_at": "2026-03-02T15:00:00Z",
                    "issuing_stops_at": "2026-03-02T15:00:00Z",
                    "configuration": _OFFICE.model_dump(mode="json"),
                }
            ]
        }
    )


class ChecklistEntry(BaseModel):
    item_id: str = Field(examples=["passport"])
    title: str = Field(examples=["Паспорт гражданина РФ"])
    original: bool = Field(examples=[True], description="Bring the original")
    copies: int = Field(examples=[1], description="Copies to bring")
    notes: str | None = Field(default=None, examples=["Все страницы с отметками"])
    exempt: str | None = Field(default=None, examples=["Дети до 14 лет"])

    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})


class ServiceSummary(BaseModel):
    service_id: str = Field(examples=["household-certificate"])
    version: int = Field(examples=[2])
    code: str = Field(examples=["MUN-HOUSEHOLD"])
    letter: str = Field(examples=["С"])
    category: str = Field(examples=["municipal"])
    title: str = Field(examples=["Справка о составе семьи"])
    description: str | None = Field(
        default=None, examples=["Выписка из домовой книги для пособий и субсидий"]
    )
    expected_minutes: int = Field(examples=[10])
    appointment_allowed: bool = Field(examples=[True])
    online: OnlineAlternative = Field(examples=[{"available": True, "url": "https://uslugi.tatarstan.ru/"}])
    documents: int = Field(examples=[3], description="Items on the checklist")
    zone_id: str | None = Field(
        default=None, examples=["z2"], description="Zone handling it in the office asked"
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_SERVICE_SUMMARY]})


class ServiceDetail(ServiceSummary):
    retired: bool = Field(examples=[False])
    checklist: list[ChecklistEntry]
    offerings: list[Offering] = Field(examples=[[{"office_id": "kzn-kirov-moskov", "zone_id": "z1"}]])
    published: ServicePublished = Field(description="The last published state, in all languages")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_id": _SERVICE.service_id,
                    "version": 1,
                    "code": _SERVICE.code,
                    "letter": _SERVICE.letter,
                    "category": _SERVICE.category,
                    "title": _SERVICE.title.ru,
                    "description": None,
                    "expected_minutes": 10,
                    "appointment_allowed": True,
                    "online": {"available": True, "url": "https://uslugi.tatarstan.ru/"},
                    "documents": 2,
                    "zone_id": None,
                    "retired": False,
                    "checklist": [{"item_id": "passport", "title": "Паспорт", "original": True, "copies": 0}],
                    "offerings": [{"office_id": "kzn-kirov-moskov", "zone_id": "z1"}],
                    "published": _SERVICE.model_dump(mode="json"),
                }
            ]
        }
    )


class SearchHit(ServiceSummary):
    score: float = Field(examples=[93.5], description="0..100, how well the words matched")
    offered_in: list[str] = Field(examples=[["kzn-kirov-moskov"]])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_SERVICE_SUMMARY, "score": 93.7, "offered_in": ["kzn-kirov-moskov"]}]
        }
    )


class Checklist(BaseModel):
    service_id: str = Field(examples=["household-certificate"])
    version: int = Field(examples=[2])
    lang: Lang = Field(examples=["ru"])
    title: str = Field(examples=["Справка о составе семьи"])
    items: list[ChecklistEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_id": "household-certificate",
                    "version": 2,
                    "lang": "ru",
                    "title": "Справка о составе семьи",
                    "items": [_ENTRY],
                }
            ]
        }
    )


class HistoryEntry(BaseModel):
    version: int = Field(examples=[1])
    event_type: str = Field(examples=["catalog.ServicePublished"])
    event_id: str = Field(examples=["0f6b6d3e-2a53-4a3a-9d1e-1b8f1d2c9a11"])
    at: str = Field(examples=["2026-02-10T09:15:00+00:00"])
    by: str = Field(examples=["admin"])
    data: dict[str, object] = Field(examples=[{"service_id": "household-certificate", "version": 1}])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "event_type": "catalog.ServicePublished",
                    "event_id": "0f6b6d3e-2a53-4a3a-9d1e-1b8f1d2c9a11",
                    "at": "2026-02-10T09:15:00+00:00",
                    "by": "admin",
                    "data": {"service_id": "household-certificate", "version": 1},
                }
            ]
        }
    )


def office_summary(office: OfficeConfigured, lang: Lang, now: datetime | None = None) -> OfficeSummary:
    now = now or SYSTEM_CLOCK.now()
    return OfficeSummary(
        office_id=office.office_id,
        version=office.version,
        name=office.name.get(lang),
        address=office.address.get(lang),
        timezone=office.timezone,
        open_now=not office.retired and calendar.is_open(office, now),
        retired=office.retired,
        zones=len(office.zones),
        windows=sum(len(zone.windows) for zone in office.zones),
    )


def office_detail(office: OfficeConfigured, lang: Lang, now: datetime | None = None) -> OfficeDetail:
    now = now or SYSTEM_CLOCK.now()
    today = calendar.opening_on(office, calendar.local_day(office, now))
    summary = office_summary(office, lang, now)
    stops_at = calendar.issuing_stops_at(office, now)
    return OfficeDetail(
        **summary.model_dump(),
        issuing_now=summary.open_now and (stops_at is None or now < stops_at),
        closes_at=calendar.closes_at(office, now),
        issuing_stops_at=stops_at,
        today=today.describe() if today else None,
        next_opening=None if office.retired else calendar.next_opening(office, now),
        week=calendar.describe_week(office),
        configuration=office,
    )


def checklist_entries(service: ServicePublished, lang: Lang) -> list[ChecklistEntry]:
    return [
        ChecklistEntry(
            item_id=item.item_id,
            title=item.title.get(lang),
            original=item.original,
            copies=item.copies,
            notes=item.notes.get(lang) if item.notes else None,
            exempt=item.exempt.get(lang) if item.exempt else None,
        )
        for item in service.checklist
    ]


def service_summary(
    service: ServicePublished, version: int, lang: Lang, office_id: str | None = None
) -> ServiceSummary:
    zone_id = next((o.zone_id for o in service.offerings if o.office_id == office_id), None)
    return ServiceSummary(
        service_id=service.service_id,
        version=version,
        code=service.code,
        letter=service.letter,
        category=service.category,
        title=service.title.get(lang),
        description=service.description.get(lang) if service.description else None,
        expected_minutes=service.expected_minutes,
        appointment_allowed=service.appointment_allowed,
        online=service.online,
        documents=len(service.checklist),
        zone_id=zone_id,
    )


def service_detail(service: ServicePublished, version: int, retired: bool, lang: Lang) -> ServiceDetail:
    return ServiceDetail(
        **service_summary(service, version, lang).model_dump(),
        retired=retired,
        checklist=checklist_entries(service, lang),
        offerings=service.offerings,
        published=service,
    )
