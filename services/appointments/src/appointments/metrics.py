"""Domain metrics of the appointments service (the kit adds HTTP, consumer and outbox metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class AppointmentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.booked = Counter(
            "onewindow_appointments_booked_total", "Appointments booked", ["office_id"], registry=registry
        )
        self.refused = Counter(
            "onewindow_appointment_bookings_refused_total",
            "Bookings refused (slot full, not offered, limit reached)",
            ["office_id", "reason"],
            registry=registry,
        )
        self.check_ins = Counter(
            "onewindow_appointment_checkins_total",
            "Check-in attempts at kiosks by outcome",
            ["office_id", "outcome"],
            registry=registry,
        )
        self.closed = Counter(
            "onewindow_appointments_closed_total",
            "Appointments that ended, by final state",
            ["office_id", "state"],
            registry=registry,
        )
