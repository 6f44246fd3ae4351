"""The office's numbers, computed from the raw visit facts of one bounded day at a time."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.calendar import local_day

from feedback import domain
from feedback.handlers import DEFAULT_TIMEZONE
from feedback.store import FeedbackStore

CSV_COLUMNS = (
    "day",
    "service_id",
    "operator_ref",
    "visits",
    "served_visits",
    "no_shows",
    "cancelled",
    "no_show_rate",
    "served_legs",
    "wait_mean_seconds",
    "wait_p90_seconds",
    "service_mean_seconds",
    "within_sla",
    "within_sla_share",
    "ratings",
    "rating_mean",
    "rating_1",
    "rating_2",
    "rating_3",
    "rating_4",
    "rating_5",
    "served",
    "documents_missing",
    "sent_online",
    "refused",
    "online_could_have_done",
)


class Monitoring:
    def __init__(self, store: FeedbackStore, *, expires_days: int, max_export_days: int) -> None:
        self.store = store
        self.expires_days = expires_days
        self.max_export_days = max_export_days

    async def today(self, office_id: str, now: datetime | None = None) -> date:
        now = now or datetime.now(UTC)
        office = await self.store.catalog.office(office_id)
        return local_day(office, now) if office is not None else now.astimezone(DEFAULT_TIMEZONE).date()

    async def _targets(self, office_id: str) -> tuple[domain.SlaTargets, set[str]]:
        office = await self.store.catalog.office(office_id)
        sla = (
            domain.SlaTargets(office.sla.max_wait_minutes, office.sla.appointment_max_wait_minutes)
            if office is not None
            else domain.SlaTargets()
        )
        services = await self.store.catalog.services_in(office_id)
        return sla, {s.service_id for s in services if s.online.available}

    async def _day_facts(self, office_id: str, day: date) -> tuple[list[dict[str, Any]], dict[str, int]]:
        visits = await self.store.visits_on(office_id, day)
        # A rating arrives at most `expires_days` after the visit (a day more for the time zone edge).
        rating_days = [day + timedelta(days=n) for n in range(self.expires_days + 2)]
        ratings = {
            doc["_id"]: int(doc["rating"])
            for doc in await self.store.ratings_given_on(office_id, rating_days)
        }
        return visits, ratings

    async def kpis(self, office_id: str, day: date, scope: domain.KpiFilter) -> dict[str, Any]:
        visits, ratings = await self._day_facts(office_id, day)
        sla, online = await self._targets(office_id)
        figures = domain.compute_kpis(visits, ratings, sla=sla, online_services=online, scope=scope)
        return {
            "office_id": office_id,
            "day": day.isoformat(),
            "service_id": scope.service_id,
            "operator_ref": scope.operator_ref,
            "sla_max_wait_minutes": sla.max_wait_minutes,
            "sla_appointment_max_wait_minutes": sla.appointment_max_wait_minutes,
            **figures,
        }

    async def csv_export(self, office_id: str, start: date, end: date) -> str:
        """One row per day for the whole office, then one per service and one per operator seen."""
        days = domain.days_between(start, end, limit=self.max_export_days)
        sla, online = await self._targets(office_id)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for day in days:
            visits, ratings = await self._day_facts(office_id, day)
            for scope in _scopes(visits):
                figures = domain.compute_kpis(visits, ratings, sla=sla, online_services=online, scope=scope)
                writer.writerow(_csv_row(day, scope, figures))
        return out.getvalue()

    async def live(self, office_id: str, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        today = await self.today(office_id, now)
        visits = await self.store.visits_on(office_id, today)
        waiting, longest = domain.waiting_now(visits, now)
        windows = await self.store.open_windows(office_id)
        given = [int(doc["rating"]) for doc in await self.store.ratings_given_on(office_id, [today])]
        return {
            "office_id": office_id,
            "day": today.isoformat(),
            "as_of": now.isoformat(),
            "visits_today": len(visits),
            "served_today": sum(1 for v in visits if v["legs"]),
            "waiting_now": waiting,
            "longest_wait_seconds": longest,
            "open_windows": len(windows),
            "open_window_numbers": sorted(int(w["window_no"]) for w in windows),
            "ratings_today": len(given),
            "rating_mean_today": round(sum(given) / len(given), 2) if given else None,
        }


def _scopes(visits: list[dict[str, Any]]) -> list[domain.KpiFilter]:
    services = sorted(
        {leg["service_id"] for v in visits for leg in v["legs"]} | {v["service_id"] for v in visits}
    )
    operators = sorted({leg["operator_ref"] for v in visits for leg in v["legs"]})
    return (
        [domain.KpiFilter()]
        + [domain.KpiFilter(service_id=s) for s in services]
        + [domain.KpiFilter(operator_ref=o) for o in operators]
    )


def _csv_row(day: date, scope: domain.KpiFilter, figures: dict[str, Any]) -> list[Any]:
    flat = {
        "day": day.isoformat(),
        "service_id": scope.service_id or "",
        "operator_ref": scope.operator_ref or "",
        **{k: v for k, v in figures.items() if k not in ("rating_distribution", "outcomes")},
        **{f"rating_{score}": count for score, count in figures["rating_distribution"].items()},
        **figures["outcomes"],
    }
    return ["" if flat.get(column) is None else flat[column] for column in CSV_COLUMNS]
