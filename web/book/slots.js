// Free appointment slots of one day as radio buttons (shared by booking and moving a booking).

import { api } from "/assets/api.js";
import { el } from "/assets/ui.js";

export function localDay(timeZone = "Europe/Moscow", date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function timeOf(iso, timeZone = "Europe/Moscow") {
  return new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit", timeZone }).format(new Date(iso));
}

export function dateTimeOf(iso, timeZone = "Europe/Moscow", locale = "ru-RU") {
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short", timeZone }).format(new Date(iso));
}

/** Fills `holder` with the day's free slots; shows `empty` when there are none. */
export async function renderSlots(holder, empty, { officeId, serviceId, day, timeZone }) {
  holder.replaceChildren();
  empty.hidden = true;
  if (!officeId || !serviceId || !day) return;
  const list = await api("appointments", `/offices/${encodeURIComponent(officeId)}/services/${encodeURIComponent(serviceId)}/slots`,
    { query: { from: day, days: 1 } });
  const slots = (list.slots || []).filter((s) => s.seats_left > 0 && localDay(timeZone, new Date(s.slot_start)) === day);
  empty.hidden = slots.length > 0;
  holder.replaceChildren(...slots.map((slot) => el("label", {},
    el("input", { type: "radio", name: "slot_start", value: slot.slot_start }),
    el("span", {}, timeOf(slot.slot_start, timeZone)))));
}
