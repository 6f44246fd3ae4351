// Booking: office, service, day, a free slot, name and phone -> the check-in code and the manage link.

import { api } from "/assets/api.js";
import { initI18n, lang, onLangChange, t } from "/assets/i18n.js";
import { checklistSection } from "/assets/checklist-tools.js";
import { clearErrors, el, guarded, showErrors, showScreen } from "/assets/ui.js";
import { dateTimeOf, localDay, renderSlots } from "/book/slots.js";

const $ = (id) => document.getElementById(id);
let offices = [];
let services = [];

function timeZone() {
  return offices.find((o) => o.office_id === $("office").value)?.timezone || "Europe/Moscow";
}

async function loadOffices() {
  offices = await api("catalog", "/offices", { query: { lang: lang() } });
  const asked = new URLSearchParams(location.search).get("office") || $("office").value;
  $("office").replaceChildren(...offices.filter((o) => !o.retired).map((o) =>
    el("option", { value: o.office_id, selected: o.office_id === asked }, `${o.name} — ${o.address}`)));
}

async function loadServices() {
  const officeId = $("office").value;
  const chosen = new URLSearchParams(location.search).get("service") || $("service").value;
  services = (await api("catalog", `/offices/${encodeURIComponent(officeId)}/services`, { query: { lang: lang() } }))
    .filter((s) => s.appointment_allowed);
  $("service").replaceChildren(...services.map((s) =>
    el("option", { value: s.service_id, selected: s.service_id === chosen }, s.title)));
}

/** The chosen service's documents, printable link and "send to my phone" (outside the booking form). */
async function loadDocs(holder = $("book-docs-body")) {
  if (!$("service").value) return;
  holder.replaceChildren(await checklistSection($("office").value, $("service").value));
}

async function loadSlots() {
  const form = $("book-form");
  clearErrors(form);
  try {
    await renderSlots($("slots"), $("no-slots"), {
      officeId: $("office").value, serviceId: $("service").value, day: $("day").value, timeZone: timeZone(),
    });
  } catch (error) {
    showErrors(form, error);
  }
}

async function book(form) {
  clearErrors(form);
  const data = new FormData(form);
  const body = {
    office_id: data.get("office_id"),
    service_id: data.get("service_id"),
    slot_start: data.get("slot_start"),
    name: String(data.get("name") || "").trim(),
    phone: String(data.get("phone") || "").trim() || null,
    language: lang(),
  };
  const missing = [];
  if (!body.slot_start) missing.push({ field: "slot_start", message: t("book.pick_slot") });
  if (!body.name) missing.push({ field: "name", message: t("common.required") });
  if (missing.length) {
    showErrors(form, { reason: missing[0].message, fields: missing });
    return;
  }
  try {
    await guarded($("book"), async (idempotencyKey) => {
      const booked = await api("appointments", "/appointments", { method: "POST", body, idempotencyKey });
      const service = services.find((s) => s.service_id === booked.service_id);
      $("done-what").textContent = `${service ? service.title : booked.service_id} — ${dateTimeOf(booked.slot_start, timeZone(), lang() === "en" ? "en-GB" : "ru-RU")}`;
      $("code").textContent = booked.code;
      const link = new URL(booked.manage_path, location.origin).href;
      $("manage-link").href = link;
      $("manage-link").textContent = link;
      await loadDocs($("done-docs")).catch(() => {});
      showScreen("done");
    });
  } catch (error) {
    showErrors(form, error);
    if (error.status === 409) loadSlots();
  }
}

async function start() {
  await loadOffices();
  await loadServices();
  $("day").value = localDay(timeZone());
  $("day").min = localDay(timeZone());
  await loadSlots();
  await loadDocs();
}

initI18n("book");
$("office").addEventListener("change", () => loadServices().then(loadSlots).then(() => loadDocs())
  .catch((e) => showErrors($("book-form"), e)));
$("service").addEventListener("change", () => {
  loadSlots();
  loadDocs().catch(() => {});
});
$("day").addEventListener("change", loadSlots);
$("book-form").addEventListener("submit", (event) => {
  event.preventDefault();
  book(event.currentTarget);
});
onLangChange(() => loadOffices().then(loadServices).catch(() => {}));
addEventListener("ow:reconnected", () => loadSlots());
start().catch((error) => showErrors($("book-form"), error));
