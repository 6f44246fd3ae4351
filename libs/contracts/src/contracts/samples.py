"""Small, valid catalog payloads for tests and examples (the full demo catalog lives in services/catalog)."""

from __future__ import annotations

from contracts.catalog import (
    AppointmentCapacity,
    ChecklistItem,
    DayHours,
    Offering,
    OfficeConfigured,
    OnlineAlternative,
    PriorityCategory,
    ServicePublished,
    SlaTargets,
    TimeRange,
    Zone,
)
from contracts.common import LocalizedText


def sample_office(office_id: str = "kzn-kirov-moskov", *, all_day: bool = False) -> OfficeConfigured:
    """The combined express office of the Kirovsky and Moskovsky districts, four zones, 12 windows.

    `all_day=True` opens it 00:00-24:00 every day without breaks, for tests that run at any hour.
    """
    if all_day:
        hours = [DayHours(weekday=d, open="00:00", close="24:00") for d in range(7)]
    else:
        hours = [
            DayHours(
                weekday=d,
                open="08:00",
                close="20:00" if d == 2 else "18:00",
                breaks=[TimeRange(start="13:00", end="14:00")],
            )
            for d in range(5)
        ] + [DayHours(weekday=5, open="09:00", close="14:00")]
    return OfficeConfigured(
        office_id=office_id,
        version=1,
        name=LocalizedText(
            ru="Экспресс-офис Кировского и Московского районов",
            tt="Киров һәм Мәскәү районнары экспресс-офисы",
            en="Express office of the Kirovsky and Moskovsky districts",
        ),
        address=LocalizedText(ru="Казань, ул. Батурина, 7", en="7 Baturina St, Kazan"),
        timezone="Europe/Moscow",
        hours=hours,
        zones=[
            Zone(
                zone_id=f"z{n}",
                name=LocalizedText(ru=f"Зона {n}", tt=f"{n} зона", en=f"Zone {n}"),
                kind="acceptance" if n <= 2 else "issuance",
                windows=[3 * n - 2, 3 * n - 1, 3 * n],
            )
            for n in range(1, 5)
        ],
        sla=SlaTargets(max_wait_minutes=15, appointment_max_wait_minutes=5, max_service_minutes=10),
        priority_categories=[
            PriorityCategory(
                code="disability",
                title=LocalizedText(ru="Инвалиды I и II групп", en="Disability groups I and II"),
            ),
            PriorityCategory(code="veteran", title=LocalizedText(ru="Ветераны", en="Veterans")),
            PriorityCategory(
                code="pregnant", title=LocalizedText(ru="Беременные женщины", en="Pregnant women")
            ),
            PriorityCategory(
                code="infant",
                title=LocalizedText(ru="Родители детей до 3 лет", en="Parents of children under 3"),
            ),
        ],
        appointment_capacity=[
            AppointmentCapacity(
                start="00:00" if all_day else "08:00",
                end="23:59" if all_day else "18:00",
                windows=2,
                weekdays=list(range(7)) if all_day else [0, 1, 2, 3, 4, 5],
            )
        ],
    )


def sample_service(
    service_id: str = "housing-certificate",
    *,
    letter: str = "А",
    office_id: str = "kzn-kirov-moskov",
    zone_id: str = "z1",
    expected_minutes: int = 10,
    appointment_allowed: bool = True,
    online: bool = True,
) -> ServicePublished:
    return ServicePublished(
        service_id=service_id,
        version=1,
        code=service_id.upper(),
        letter=letter,
        category="municipal",
        title=LocalizedText(
            ru="Справка о составе семьи",
            tt="Гаилә составы турында белешмә",
            en="Certificate of household composition",
        ),
        expected_minutes=expected_minutes,
        appointment_allowed=appointment_allowed,
        online=OnlineAlternative(available=online, url="https://uslugi.tatarstan.ru/" if online else None),
        checklist=[
            ChecklistItem(
                item_id="passport",
                title=LocalizedText(ru="Паспорт", tt="Паспорт", en="Passport"),
                original=True,
                copies=0,
            ),
            ChecklistItem(
                item_id="ownership",
                title=LocalizedText(ru="Документ о праве собственности", en="Proof of ownership"),
                original=False,
                copies=1,
            ),
        ],
        offerings=[Offering(office_id=office_id, zone_id=zone_id)],
    )
