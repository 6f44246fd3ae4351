"""HTTP: the citizen's feedback page, supervisors' alerts, KPIs, CSV export and the live view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from servicekit.auth import Principal, require, require_office
from servicekit.idempotency import IdempotencyKeyHeader, Keys, request_digest
from servicekit.runtime import from_app_state
from servicekit.sealing import token_digest

from feedback import domain
from feedback.store import FeedbackStore
from feedback.usecases import Answer, Feedback, Monitoring

ERRORS: dict[type[Exception], int] = {
    domain.FeedbackLinkUnusable: 404,
    domain.AlertAlreadyResolved: 409,
    domain.VisitAlreadyRated: 409,
    domain.BadPeriod: 422,
}

citizens = APIRouter(tags=["feedback"])
supervisors = APIRouter(tags=["supervision"])


Store = Annotated[FeedbackStore, Depends(from_app_state("store", FeedbackStore))]
Monitor = Annotated[Monitoring, Depends(from_app_state("monitoring", Monitoring))]
UseCases = Annotated[Feedback, Depends(from_app_state("feedback", Feedback))]
Supervisor = Annotated[Principal, require("supervisor")]
# The rating screen facing the citizen at a window is signed in with the window's operator account
# (or the office's kiosk account) and paired with one window number.
WindowScreen = Annotated[Principal, require("operator", "kiosk")]
WindowNo = Annotated[int, Path(ge=1, le=999, examples=[4])]


# ---------------------------------------------------------------- citizens


class FeedbackPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "fr-t-20250310-A017",
                    "service_id": "housing-certificate",
                    "service_title": {
                        "ru": "Справка о составе семьи",
                        "tt": None,
                        "en": "Certificate of household composition",
                    },
                    "office_id": "kzn-kirov-moskov",
                    "office_name": {
                        "ru": "Экспресс-офис Кировского и Московского районов",
                        "tt": None,
                        "en": None,
                    },
                    "visit_day": "2025-03-10",
                    "answered": False,
                    "expires_at": "2025-03-13T09:40:00Z",
                    "tags": list(domain.TAGS),
                    "max_comment_chars": domain.MAX_COMMENT_CHARS,
                }
            ]
        }
    )

    request_id: str
    service_id: str
    service_title: dict[str, str | None] | None
    office_id: str
    office_name: dict[str, str | None] | None
    visit_day: str
    answered: bool
    expires_at: datetime
    tags: list[str]
    max_comment_chars: int


class GiveFeedback(BaseModel):
    rating: int = Field(ge=1, le=5, description="1 = very bad, 5 = excellent", examples=[4])
    tags: list[domain.Tag] = Field(
        default_factory=list, max_length=len(domain.TAGS), examples=[["politeness"]]
    )
    comment: str = Field(
        default="", max_length=domain.MAX_COMMENT_CHARS, examples=["Quick and polite, thank you."]
    )

    def answer(self) -> Answer:
        return Answer(rating=self.rating, tags=list(self.tags), comment=self.comment)


class FeedbackAccepted(BaseModel):
    request_id: str = Field(examples=["fr-t-20250310-A017"])
    rating: int = Field(examples=[4])
    answered_at: datetime


async def _page(request: domain.FeedbackRequest, store: FeedbackStore) -> FeedbackPage:
    service = await store.catalog.service(request.service_id, include_retired=True)
    office = await store.catalog.office(request.office_id)
    return FeedbackPage(
        request_id=request.request_id,
        service_id=request.service_id,
        service_title=service.title.model_dump() if service else None,
        office_id=request.office_id,
        office_name=office.name.model_dump() if office else None,
        visit_day=request.visit_day.isoformat(),
        answered=request.state != "requested",
        expires_at=request.expires_at,
        tags=list(domain.TAGS),
        max_comment_chars=domain.MAX_COMMENT_CHARS,
    )


@citizens.get(
    "/feedback/{token}", summary="What the feedback page shows for a link", response_model=FeedbackPage
)
async def feedback_page(token: str, store: Store, feedback: UseCases) -> FeedbackPage:
    return await _page(await feedback.request_by_token(token), store)


@citizens.get(
    "/feedback/by-ticket/{token}",
    summary="The rating page of the link printed on the ticket (the ticket's own token)",
    description="404 until the visit is over (and after the link expires).",
    response_model=FeedbackPage,
)
async def feedback_page_by_ticket(token: str, store: Store, feedback: UseCases) -> FeedbackPage:
    return await _page(await feedback.request_by_ticket_token(token), store)


@citizens.post(
    "/feedback/by-ticket/{token}",
    summary="Rate a visit from the ticket's link (once per visit: 409 when already rated)",
    status_code=201,
    response_model=FeedbackAccepted,
)
async def give_feedback_by_ticket(
    token: str,
    body: GiveFeedback,
    feedback: UseCases,
    keys: Keys,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FeedbackAccepted:
    digest = token_digest(token)
    return await _rate_once(
        keys,
        idempotency_key,
        body,
        ("by-ticket", digest),
        earlier=lambda: feedback.store.request_by_ticket_token_digest(digest),
        give=lambda: feedback.give_by_ticket(token, body.answer()),
    )


class WindowRating(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "fr-t-4f1c",
                    "number": "А017",
                    "service_title": {"ru": "Справка о составе семьи", "tt": None, "en": None},
                    "requested_at": "2025-03-10T09:40:00Z",
                    "tags": list(domain.TAGS),
                }
            ]
        }
    )

    request_id: str
    number: str | None
    service_title: dict[str, str | None] | None
    requested_at: datetime
    tags: list[str]


class WindowRatingGiven(GiveFeedback):
    request_id: str = Field(min_length=1, max_length=64, examples=["fr-t-4f1c"])


@citizens.get(
    "/offices/{office_id}/windows/{window_no}/rating",
    summary="The visit a window's rating screen offers now (null: none waits for a rating)",
    response_model=WindowRating | None,
)
async def window_rating(
    office_id: str, window_no: WindowNo, screen: WindowScreen, store: Store, feedback: UseCases
) -> WindowRating | None:
    require_office(screen, office_id)
    request = await feedback.waiting_at_window(office_id, window_no)
    if request is None:
        return None
    service = await store.catalog.service(request.service_id, include_retired=True)
    return WindowRating(
        request_id=request.request_id,
        number=request.number,
        service_title=service.title.model_dump() if service else None,
        requested_at=request.requested_at,
        tags=list(domain.TAGS),
    )


@citizens.post(
    "/offices/{office_id}/windows/{window_no}/rating",
    summary="The citizen rates the visit on the window's screen (once per visit: 409 when rated)",
    status_code=201,
    response_model=FeedbackAccepted,
)
async def give_window_rating(
    office_id: str,
    window_no: WindowNo,
    body: WindowRatingGiven,
    screen: WindowScreen,
    feedback: UseCases,
    keys: Keys,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FeedbackAccepted:
    require_office(screen, office_id)
    return await _rate_once(
        keys,
        idempotency_key,
        body,
        ("window", office_id, str(window_no)),
        earlier=lambda: feedback.store.request_models.get(body.request_id),
        give=lambda: feedback.give_at_window(office_id, window_no, body.request_id, body.answer()),
    )


def _accepted(answered: domain.FeedbackRequest) -> FeedbackAccepted:
    at = answered.answered_at
    assert at is not None and answered.rating is not None, "an answered request"
    return FeedbackAccepted(  # to the millisecond, as stored: a keyed retry reads the same answer back
        request_id=answered.request_id,
        rating=answered.rating,
        answered_at=at.replace(microsecond=at.microsecond // 1000 * 1000),
    )


async def _rate_once(
    keys: Keys,
    idempotency_key: str | None,
    body: GiveFeedback,
    route: tuple[str, ...],
    *,
    earlier: Callable[[], Awaitable[domain.FeedbackRequest | None]],
    give: Callable[[], Awaitable[domain.FeedbackRequest]],
) -> FeedbackAccepted:
    """A rating, once per visit. Under an Idempotency-Key, a retry of a rating that was given (its
    answer lost on the way) gets that first answer again (201), not "already rated"; the same key
    with another rating or route is a 422. Without a key, or when the first attempt never got
    through, the rating is given now."""
    if idempotency_key is not None:
        claim = await keys.claim("feedback", idempotency_key, request_digest(*route, body.model_dump_json()))
        answered = await earlier() if claim.seen_before else None
        if answered is not None and answered.state == "answered" and answered.rating == body.rating:
            return _accepted(answered)
    return _accepted(await give())


@citizens.post(
    "/feedback/{token}",
    summary="Rate a visit (once per visit)",
    status_code=201,
    response_model=FeedbackAccepted,
)
async def give_feedback(
    token: str,
    body: GiveFeedback,
    feedback: UseCases,
    keys: Keys,
    idempotency_key: IdempotencyKeyHeader = None,
) -> FeedbackAccepted:
    digest = token_digest(token)
    return await _rate_once(
        keys,
        idempotency_key,
        body,
        ("link", digest),
        earlier=lambda: feedback.store.request_by_token_digest(digest),
        give=lambda: feedback.give(token, body.answer()),
    )


# ---------------------------------------------------------------- supervisors: alerts


class AlertView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": "al-t-20250310-A017",
                    "office_id": "kzn-kirov-moskov",
                    "ticket_id": "t-20250310-A017",
                    "service_id": "housing-certificate",
                    "rating": 1,
                    "tags": ["waiting_time"],
                    "window_no": 4,
                    "operator_ref": "op-7f3a",
                    "state": "open",
                    "raised_at": "2025-03-10T10:02:00Z",
                    "timeline": [
                        {
                            "at": "2025-03-10T09:10:00Z",
                            "what": "ticketing.TicketIssued",
                            "detail": "ticket A017, kiosk, service housing-certificate",
                        }
                    ],
                    "note": None,
                }
            ]
        }
    )

    alert_id: str
    office_id: str
    ticket_id: str
    service_id: str
    rating: int
    tags: list[str]
    window_no: int | None = None
    operator_ref: str | None = None
    state: str
    raised_at: datetime
    timeline: list[dict[str, Any]]
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None


class ResolveAlert(BaseModel):
    note: str = Field(
        min_length=1,
        max_length=2000,
        examples=["Called the visitor back; operator briefed on the checklist."],
    )


@supervisors.get(
    "/offices/{office_id}/alerts", summary="Low-rating alerts of an office", response_model=list[AlertView]
)
async def list_alerts(
    office_id: str,
    principal: Supervisor,
    store: Store,
    state: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$", examples=["open"])] = None,
) -> list[AlertView]:
    require_office(principal, office_id)
    return [
        AlertView.model_validate(alert, from_attributes=True)
        for alert in await store.alerts_of(office_id, state)
    ]


@supervisors.post("/alerts/{alert_id}/acknowledge", summary="Take an alert in hand", response_model=AlertView)
async def acknowledge_alert(alert_id: str, principal: Supervisor, feedback: UseCases) -> AlertView:
    require_office(principal, (await feedback.alert(alert_id)).office_id)
    acknowledged = await feedback.acknowledge_alert(alert_id, by=principal.subject)
    return AlertView.model_validate(acknowledged, from_attributes=True)


@supervisors.post(
    "/alerts/{alert_id}/resolve", summary="Close an alert with a note", response_model=AlertView
)
async def resolve_alert(
    alert_id: str, body: ResolveAlert, principal: Supervisor, feedback: UseCases
) -> AlertView:
    require_office(principal, (await feedback.alert(alert_id)).office_id)
    resolved = await feedback.resolve_alert(alert_id, by=principal.subject, note=body.note)
    return AlertView.model_validate(resolved, from_attributes=True)


# ---------------------------------------------------------------- supervisors: monitoring

KPI_EXAMPLE = {
    "office_id": "kzn-kirov-moskov",
    "day": "2025-03-10",
    "service_id": None,
    "operator_ref": None,
    "sla_max_wait_minutes": 15,
    "sla_appointment_max_wait_minutes": 5,
    "visits": 12,
    "served_visits": 10,
    "no_shows": 1,
    "cancelled": 1,
    "no_show_rate": 0.0909,
    "served_legs": 10,
    "wait_mean_seconds": 402.0,
    "wait_p50_seconds": 420,
    "wait_p90_seconds": 960,
    "service_mean_seconds": 540.0,
    "within_sla": 9,
    "within_sla_share": 0.9,
    "ratings": 6,
    "rating_mean": 3.83,
    "rating_distribution": {"1": 1, "2": 0, "3": 1, "4": 1, "5": 3},
    "outcomes": {"served": 7, "documents_missing": 1, "sent_online": 1, "refused": 1},
    "online_could_have_done": 6,
}
LIVE_EXAMPLE = {
    "office_id": "kzn-kirov-moskov",
    "day": "2025-03-10",
    "as_of": "2025-03-10T08:15:00+00:00",
    "visits_today": 57,
    "served_today": 41,
    "waiting_now": 9,
    "longest_wait_seconds": 612,
    "open_windows": 8,
    "open_window_numbers": [1, 2, 3, 4, 5, 7, 8, 10],
    "ratings_today": 14,
    "rating_mean_today": 4.5,
}


def _json_example(example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": example}}}}


@supervisors.get(
    "/offices/{office_id}/kpis",
    summary="An office's numbers for one local day",
    responses=_json_example(KPI_EXAMPLE),
)
async def office_kpis(
    office_id: str,
    principal: Supervisor,
    monitoring: Monitor,
    day: Annotated[
        date | None, Query(description="Office-local day; default today", examples=["2025-03-10"])
    ] = None,
    service_id: Annotated[str | None, Query(max_length=64, examples=["housing-certificate"])] = None,
    operator_ref: Annotated[str | None, Query(max_length=64, examples=["op-7f3a"])] = None,
) -> dict[str, Any]:
    require_office(principal, office_id)
    scope = domain.KpiFilter(service_id=service_id, operator_ref=operator_ref)
    return await monitoring.kpis(office_id, day or await monitoring.today(office_id), scope)


@supervisors.get(
    "/offices/{office_id}/kpis.csv",
    summary="CSV export: per day, whole office then per service and per operator",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"example": "day,service_id,operator_ref,visits,...\n2025-03-10,,,12,...\n"}
            }
        }
    },
)
async def office_kpis_csv(
    office_id: str,
    principal: Supervisor,
    monitoring: Monitor,
    start: Annotated[date, Query(alias="from", examples=["2025-03-01"])],
    end: Annotated[date, Query(alias="to", examples=["2025-03-31"])],
) -> Response:
    require_office(principal, office_id)
    text = await monitoring.csv_export(office_id, start, end)
    filename = f"kpis-{office_id}-{start}-{end}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@supervisors.get(
    "/offices/{office_id}/live",
    summary="Today, now: waiting, open windows, longest wait, ratings",
    responses=_json_example(LIVE_EXAMPLE),
)
async def office_live(office_id: str, principal: Supervisor, monitoring: Monitor) -> dict[str, Any]:
    require_office(principal, office_id)
    return await monitoring.live(office_id)


@supervisors.get(
    "/offices/{office_id}/history",
    summary="An office's numbers over a period: totals, per service and operator, per day, week and month",
)
async def office_history(
    office_id: str,
    principal: Supervisor,
    monitoring: Monitor,
    start: Annotated[date, Query(alias="from", examples=["2025-03-03"])],
    end: Annotated[date, Query(alias="to", examples=["2025-03-09"])],
) -> dict[str, Any]:
    require_office(principal, office_id)
    return await monitoring.history(office_id, start, end)


DIGITAL_SHARE_EXAMPLE = {
    "office_id": "kzn-kirov-moskov",
    "from": "2025-03-03",
    "to": "2025-03-09",
    "goal": 0.78,
    "online": 7,
    "in_office": 3,
    "could_have_been_online": 4,
    "sent_online": 1,
    "online_after_office_visit": 1,
    "share_online": 0.7,
    "meets_goal": False,
    "services": [
        {
            "service_id": "household-certificate",
            "has_online_alternative": True,
            "online": 7,
            "in_office": 3,
            "could_have_been_online": 4,
            "sent_online": 1,
            "online_after_office_visit": 1,
            "share_online": 0.7,
            "meets_goal": False,
        }
    ],
}


@supervisors.get(
    "/offices/{office_id}/digital-share",
    summary="Applications online (from the city portal) vs in the office, per service, against the goal",
    responses=_json_example(DIGITAL_SHARE_EXAMPLE),
)
async def office_digital_share(
    office_id: str,
    principal: Supervisor,
    monitoring: Monitor,
    start: Annotated[date, Query(alias="from", examples=["2025-03-03"])],
    end: Annotated[date, Query(alias="to", examples=["2025-03-09"])],
) -> dict[str, Any]:
    require_office(principal, office_id)
    return await monitoring.digital_share(office_id, start, end)
