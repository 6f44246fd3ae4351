// Manage a booking (/appointments/manage/{token}): see it, move it to another free slot, or cancel it.

import { api } from "/assets/api.js";
import { initI18n, lang, onLangChange, t } from "/assets/i18n.js";
import { clearErrors, guarded, showErrors, tokenFromPath } from "/assets/ui.js";
import { dateTimeOf, localDay, renderSlots } from "/book/slots.js";

const token = tokenFromPath();
const $ = (id) => document.getElementById(id);
let booking = null;
let office = null;
let serviceTitle = "";
const CHANGEABLE = new Set(["booked", "rescheduled"]);

function zone() {
  return office?.timezone || "Europe/Moscow";
}

function render() {
  $("booking").hidden = false;
  $("what").textContent = `${serviceTitle || booking.service_id} — ${dateTimeOf(booking.slot_start, zone(), lang() === "en" ? "en-GB" : "ru-RU")}${office ? `, ${office.name}` : ""}`;
  $("state").textContent = t(`appt.${booking.state}`);
  $("code").textContent = booking.code;
  $("move-form").hidden = !CHANGEABLE.has(booking.state);
}

async function load() {
  try {
    booking = await api("appointments", `/appointments/by-token/${encodeURIComponent(token)}`);
  } catch (error) {
    $("load-error").textContent = error.reason || String(error);
    $("load-error").hidden = false;
    return;
  }
  [office, serviceTitle] = await Promise.all([
    api("catalog", `/offices/${encodeURIComponent(booking.office_id)}`, { query: { lang: lang() } }).catch(() => null),
    api("catalog", `/services/${encodeURIComponent(booking.service_id)}`, { query: { lang: lang() } }).then((s) => s.title).catch(() => ""),
  ]);
  render();
  if (!$("day").value) $("day").value = localDay(zone(), new Date(booking.slot_start));
  $("day").min = localDay(zone());
  await loadSlots();
}

async function loadSlots() {
  try {
    await renderSlots($("slots"), $("no-slots"), {
      officeId: booking.office_id, serviceId: booking.service_id, day: $("day").value, timeZone: zone(),
    });
  } catch (error) {
    showErrors($("move-form"), error);
  }
}

function done(message) {
  $("result").textContent = message;
  $("result").hidden = false;
  render();
}

$("day").addEventListener("change", loadSlots);
$("move-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const slot = new FormData(form).get("slot_start");
  if (!slot) {
    showErrors(form, { reason: t("book.pick_slot"), fields: [{ field: "slot_start", message: t("book.pick_slot") }] });
    return;
  }
  try {
    await guarded($("move"), async () => {
      booking = await api("appointments", `/appointments/by-token/${encodeURIComponent(token)}/reschedule`,
        { method: "POST", body: { slot_start: slot } });
      done(t("book.manage.moved"));
      await loadSlots();
    });
  } catch (error) {
    showErrors(form, error);
  }
});
$("cancel").addEventListener("click", async () => {
  if (!confirm(t("book.manage.confirm"))) return;
  clearErrors($("move-form"));
  try {
    await guarded($("cancel"), async () => {
      booking = await api("appointments", `/appointments/by-token/${encodeURIComponent(token)}/cancel`, { method: "POST" });
      done(t("book.manage.cancelled"));
    });
  } catch (error) {
    showErrors($("move-form"), error);
  }
});

initI18n("book");
onLangChange(() => booking && load());
if (token) load();
