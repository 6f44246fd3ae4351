"""Demo offices of Kazan: the combined Kirovsky-Moskovsky express office and three district offices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from contracts.catalog import (
    AppointmentCapacity,
    DateException,
    DayHours,
    GeoPoint,
    OfficeConfigured,
    PriorityCategory,
    SlaTargets,
    TimeRange,
    Zone,
)
from contracts.common import LocalizedText as T
from contracts.samples import sample_office

EXPRESS_OFFICE = "kzn-kirov-moskov"
# Approximate map positions of the offices (WGS 84): enough for "2.1 km away", not for navigation.
LOCATIONS = {
    EXPRESS_OFFICE: GeoPoint(lat=55.8040, lon=49.0580),
    "kzn-vakhitov": GeoPoint(lat=55.7887, lon=49.1221),
    "kzn-privolzh": GeoPoint(lat=55.7545, lon=49.1530),
    "kzn-novo-savin": GeoPoint(lat=55.8251, lon=49.1403),
}
ZoneKind = Literal["acceptance", "issuance", "both", "reception"]

# Federal holidays and the Tatarstan ones (Kurban Bayram, Republic Constitution Day, Uraza Bayram).
_NEW_YEAR = [date(2027, 1, 1) + timedelta(days=n) for n in range(8)]
HOLIDAYS = [
    DateException(date=date(2026, 5, 27), closed=True, note="Курбан-байрам"),
    DateException(date=date(2026, 6, 12), closed=True, note="День России"),
    DateException(date=date(2026, 11, 3), open="08:00", close="19:00", note="Предпраздничный день"),
    DateException(date=date(2026, 11, 4), closed=True, note="День народного единства"),
    DateException(date=date(2026, 11, 6), closed=True, note="День Конституции Республики Татарстан"),
    DateException(date=date(2026, 12, 30), open="08:00", close="17:00", note="Предпраздничный день"),
    DateException(date=date(2026, 12, 31), closed=True, note="Новогодние каникулы"),
    *[DateException(date=day, closed=True, note="Новогодние каникулы") for day in _NEW_YEAR],
    DateException(date=date(2027, 2, 23), closed=True, note="День защитника Отечества"),
    DateException(date=date(2027, 3, 8), closed=True, note="Международный женский день"),
    DateException(date=date(2027, 3, 10), closed=True, note="Ураза-байрам"),
]

# Preferential (out-of-turn) service by law; configurable per office.
PRIORITY_CATEGORIES = [
    PriorityCategory(
        code="disability",
        title=T(
            ru="Инвалиды I и II групп и сопровождающие детей-инвалидов",
            tt="I һәм II төркем инвалидлар һәм инвалид балаларны озатып йөрүчеләр",
            en="People with disabilities (groups I and II) and those accompanying disabled children",
        ),
    ),
    PriorityCategory(
        code="veteran",
        title=T(
            ru="Ветераны и инвалиды Великой Отечественной войны, ветераны боевых действий",
            tt="Бөек Ватан сугышы ветераннары һәм инвалидлары, сугышчан хәрәкәтләр ветераннары",
            en="Veterans and invalids of the Great Patriotic War, combat veterans",
        ),
    ),
    PriorityCategory(
        code="hero",
        title=T(
            ru="Герои Советского Союза и Герои Российской Федерации",
            tt="Советлар Союзы Геройлары һәм Россия Федерациясе Геройлары",
            en="Heroes of the Soviet Union and of the Russian Federation",
        ),
    ),
    PriorityCategory(
        code="pregnant", title=T(ru="Беременные женщины", tt="Йөкле хатын-кызлар", en="Pregnant women")
    ),
    PriorityCategory(
        code="infant",
        title=T(
            ru="Родители с детьми до трёх лет",
            tt="Өч яшькә кадәрге балалары булган ата-аналар",
            en="Parents with children under three",
        ),
    ),
]

SLA = SlaTargets(max_wait_minutes=15, appointment_max_wait_minutes=5, max_service_minutes=10)


def _week(
    weekday_open: str,
    weekday_close: str,
    *,
    late_day: int | None,
    saturday: tuple[str, str],
    lunch: bool = False,
) -> list[DayHours]:
    """Mon-Fri hours (one day open until 20:00 if `late_day`), and Saturday: six days, >=10 hours."""
    breaks = [TimeRange(start="13:00", end="13:45")] if lunch else []
    days = [
        DayHours(
            weekday=d, open=weekday_open, close="20:00" if d == late_day else weekday_close, breaks=breaks
        )
        for d in range(5)
    ]
    return [*days, DayHours(weekday=5, open=saturday[0], close=saturday[1])]


# Kiosks stop issuing a quarter of an hour before closing: the last visitors are still served.
ISSUE_CUTOFF_MINUTES = 15


def _zone(zone_id: str, kind: ZoneKind, windows: list[int], ru: str, tt: str, en: str) -> Zone:
    return Zone(zone_id=zone_id, kind=kind, windows=windows, name=T(ru=ru, tt=tt, en=en))


def express_office() -> OfficeConfigured:
    """The office this system started from: reception, waiting hall, four acceptance/issuance zones."""
    base = sample_office(EXPRESS_OFFICE)
    return base.model_copy(
        update={
            "address": T(ru="Казань, ул. Батурина, 7", tt="Казан, Батурин ур., 7", en="7 Baturina St, Kazan"),
            "hours": _week("08:00", "20:00", late_day=None, saturday=("09:00", "19:00")),
            "exceptions": HOLIDAYS,
            "zones": [
                _zone(
                    "z1",
                    "acceptance",
                    [1, 2, 3],
                    "Зона 1: приём документов — паспорт, регистрация, недвижимость",
                    "1 зона: документлар кабул итү — паспорт, теркәү, күчемсез милек",
                    "Zone 1: acceptance — passports, registration, real estate",
                ),
                _zone(
                    "z2",
                    "acceptance",
                    [4, 5, 6],
                    "Зона 2: приём документов — жильё, земля, строительство",
                    "2 зона: документлар кабул итү — торак, җир, төзелеш",
                    "Zone 2: acceptance — housing, land, construction",
                ),
                _zone(
                    "z3",
                    "both",
                    [7, 8, 9],
                    "Зона 3: социальные услуги и пособия",
                    "3 зона: социаль хезмәтләр һәм пособиеләр",
                    "Zone 3: social services and benefits",
                ),
                _zone(
                    "z4",
                    "issuance",
                    [10, 11, 12],
                    "Зона 4: выдача готовых документов и справок",
                    "4 зона: әзер документлар һәм белешмәләр бирү",
                    "Zone 4: issuance of documents and certificates",
                ),
            ],
            "sla": SLA,
            "issue_cutoff_minutes": ISSUE_CUTOFF_MINUTES,
            "location": LOCATIONS[EXPRESS_OFFICE],
            "priority_categories": PRIORITY_CATEGORIES,
            "appointment_capacity": [
                AppointmentCapacity(weekdays=[0, 1, 2, 3, 4, 5], start="08:00", end="19:00", windows=2)
            ],
        }
    )


def _district_office(
    office_id: str, name: T, address: T, hours: list[DayHours], zones: list[Zone], appointment_windows: int
) -> OfficeConfigured:
    return OfficeConfigured(
        office_id=office_id,
        version=1,
        name=name,
        address=address,
        timezone="Europe/Moscow",
        hours=hours,
        exceptions=HOLIDAYS,
        zones=zones,
        sla=SLA,
        issue_cutoff_minutes=ISSUE_CUTOFF_MINUTES,
        location=LOCATIONS.get(office_id),
        priority_categories=PRIORITY_CATEGORIES,
        appointment_capacity=[
            AppointmentCapacity(
                weekdays=[0, 1, 2, 3, 4], start="09:00", end="17:00", windows=appointment_windows
            )
        ],
    )


def district_offices() -> list[OfficeConfigured]:
    return [
        _district_office(
            "kzn-vakhitov",
            T(
                ru="Офис приёма Вахитовского района",
                tt="Вахитов районының кабул итү офисы",
                en="Vakhitovsky district office",
            ),
            T(
                ru="Казань, ул. Большая Красная, 1",
                tt="Казан, Зур Кызыл ур., 1",
                en="1 Bolshaya Krasnaya St, Kazan",
            ),
            _week("08:00", "18:00", late_day=1, saturday=("09:00", "19:00")),
            [
                _zone(
                    "z1",
                    "acceptance",
                    [1, 2, 3, 4],
                    "Приём документов",
                    "Документлар кабул итү",
                    "Document acceptance",
                ),
                _zone("z2", "issuance", [5, 6], "Выдача документов", "Документлар бирү", "Document issuance"),
            ],
            appointment_windows=1,
        ),
        _district_office(
            "kzn-privolzh",
            T(
                ru="Офис приёма Приволжского района",
                tt="Идел буе районының кабул итү офисы",
                en="Privolzhsky district office",
            ),
            T(ru="Казань, ул. Авангардная, 74", tt="Казан, Авангард ур., 74", en="74 Avangardnaya St, Kazan"),
            _week("08:00", "19:00", late_day=3, saturday=("09:00", "19:00"), lunch=True),
            [
                _zone(
                    "z1",
                    "acceptance",
                    [1, 2, 3],
                    "Приём: государственные и муниципальные услуги",
                    "Кабул итү: дәүләт һәм муниципаль хезмәтләр",
                    "Acceptance: state and municipal services",
                ),
                _zone("z2", "both", [4, 5], "Социальные услуги", "Социаль хезмәтләр", "Social services"),
                _zone("z3", "issuance", [6, 7], "Выдача документов", "Документлар бирү", "Document issuance"),
            ],
            appointment_windows=1,
        ),
        _district_office(
            "kzn-novo-savin",
            T(
                ru="Офис приёма Ново-Савиновского района",
                tt="Яңа Савин районының кабул итү офисы",
                en="Novo-Savinovsky district office",
            ),
            T(ru="Казань, ул. Карбышева, 37", tt="Казан, Карбышев ур., 37", en="37 Karbysheva St, Kazan"),
            _week("08:00", "18:00", late_day=2, saturday=("09:00", "19:00")),
            [
                _zone(
                    "z1",
                    "acceptance",
                    [1, 2, 3],
                    "Приём документов",
                    "Документлар кабул итү",
                    "Document acceptance",
                ),
                _zone("z2", "issuance", [4, 5], "Выдача документов", "Документлар бирү", "Document issuance"),
            ],
            appointment_windows=1,
        ),
    ]


def demo_offices() -> list[OfficeConfigured]:
    return [express_office(), *district_offices()]
