"""Message texts per template and language (ru, tt, en), with per-office overrides from settings."""

from __future__ import annotations

from collections.abc import Mapping

# Citizen texts are one SMS-sized line; supervisor e-mails use the first line as the subject.
TEMPLATES: dict[str, dict[str, str]] = {
    "ticket_issued": {
        "ru": "Ваш талон {number}. Перед вами {ahead} чел., ожидание около {wait} мин. Очередь: {link}",
        "tt": "Сезнең талон {number}. Алдыгызда {ahead} кеше, көтү якынча {wait} мин. Чират онлайн: {link}",
        "en": "Your ticket is {number}. {ahead} people ahead of you, about {wait} min. Live queue: {link}",
    },
    "position_reached": {
        "ru": "Талон {number}: вы {position}-й в очереди. Пожалуйста, вернитесь в зал ожидания.",
        "tt": "Талон {number}: сез чиратта {position}-нче. Зинһар, көтү залына кайтыгыз.",
        "en": "Ticket {number}: you are number {position} in line. Please come back to the waiting hall.",
    },
    "ticket_called": {
        "ru": "Талон {number}: пройдите, пожалуйста, к окну {window} ({zone}).",
        "tt": "Талон {number}: зинһар, {window} нче тәрәзәгә килегез ({zone}).",
        "en": "Ticket {number}: please go to window {window} ({zone}).",
    },
    "appointment_booked": {
        "ru": "Вы записаны: {service}, {when}, {office}. Запись: {link}",
        "tt": "Сез язылдыгыз: {service}, {when}, {office}. Язылу: {link}",
        "en": "You are booked: {service}, {when}, {office}. Your booking: {link}",
    },
    "appointment_reminder_day": {
        "ru": "Напоминаем: завтра {when} — {service}, {office}. Запись: {link}",
        "tt": "Искә төшерәбез: иртәгә {when} — {service}, {office}. Язылу: {link}",
        "en": "Reminder: tomorrow {when} — {service}, {office}. Your booking: {link}",
    },
    "appointment_reminder_hour": {
        "ru": "Напоминаем: через час, {when} — {service}, {office}.",
        "tt": "Искә төшерәбез: бер сәгатьтән, {when} — {service}, {office}.",
        "en": "Reminder: in one hour, {when} — {service}, {office}.",
    },
    "checklist": {
        "ru": "Документы для услуги «{service}»: {items}. Полный список: {link}",
        "tt": "«{service}» хезмәте өчен документлар: {items}. Тулы исемлек: {link}",
        "en": "Documents for \u201c{service}\u201d: {items}. Full list: {link}",
    },
    "feedback_link": {
        "ru": "Спасибо за визит! Оцените, пожалуйста, обслуживание: {link}",
        "tt": "Килүегез өчен рәхмәт! Хезмәтне бәяләгез: {link}",
        "en": "Thank you for your visit! Please rate the service: {link}",
    },
    "sla_breach_predicted": {
        "ru": "[{office}] Риск превышения ожидания: талон {number}\n"
        "Услуга: {service}. Ждёт {waited} мин, прогноз {predicted} мин при норме {sla} мин.",
        "en": "[{office}] Wait target at risk: ticket {number}\n"
        "Service: {service}. Waiting {waited} min, predicted {predicted} min, target {sla} min.",
    },
    "sla_breached": {
        "ru": "[{office}] Превышено время ожидания: талон {number}\n"
        "Услуга: {service}. Ждёт {waited} мин при норме {sla} мин.",
        "en": "[{office}] Wait target breached: ticket {number}\n"
        "Service: {service}. Waiting {waited} min, target {sla} min.",
    },
    "feedback_alert": {
        "ru": "[{office}] Низкая оценка {rating}/5: талон {ticket}\n"
        "Услуга: {service}. Метки: {tags}.\n{timeline}",
        "en": "[{office}] Low rating {rating}/5: ticket {ticket}\n"
        "Service: {service}. Tags: {tags}.\n{timeline}",
    },
}

# Messages that may not wait for the end of quiet hours.
URGENT = frozenset({"ticket_issued", "position_reached", "ticket_called", "appointment_booked", "checklist"})


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def render(
    template: str,
    language: str,
    params: Mapping[str, object],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The text of `template` in `language` (office override first, then built-in; Russian fallback)."""
    builtin = TEMPLATES[template]
    custom = (overrides or {}).get(template) or {}
    text = custom.get(language) or builtin.get(language) or custom.get("ru") or builtin["ru"]
    try:
        return text.format_map(_Blank(params))
    except (ValueError, IndexError):
        # A broken office override must not block the message: the built-in text still goes out.
        return (builtin.get(language) or builtin["ru"]).format_map(_Blank(params))
