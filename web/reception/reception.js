// The reception desk (consultant at the entrance): find a service for a citizen, explain and print its
// checklist (or send it to their phone), then issue a ticket on their behalf (a legal priority category
// only once the consultant has checked the document), book an appointment for them, or send them to the
// portal (recorded as the visit's outcome).

import { api, ApiError } from "/assets/api.js";
import { checklistSection } from "/assets/checklist-tools.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { forgetStaff, staffSession, staffSignIn } from "/assets/signin.js";
import { renderSlip } from "/assets/slip.js";
import { clearErrors, el, guarded, showErrors, showScreen } from "/assets/ui.js";
import { dateTimeOf, localDay, renderSlots } from "/book/slots.js";

const SCOPE = "reception";
const ROLES = new Set(["reception", "operator", "admin"]);
const $ = (id) => document.getElementById(id);
const state = { session: null, office: null, service: null };

function token() {
  return state.session?.access_token;
}

function officeId() {
  return state.session?.office_id || new URLSearchParams(location.search).get("office");
}

function timeZone() {
  return state.office?.timezone || "Europe/Moscow";
}

// ------------------------------------------------------------------ finding a service

async function search(query) {
  const hits = await api("catalog", "/services/search", { query: { q: query, office_id: officeId(), lang: lang() } });
  $("no-hits").hidden = hits.length > 0;
  $("hits").replaceChildren(...hits.map((hit) => el("li", {},
    el("button", { type: "button", class: "secondary", dataset: { serviceId: hit.service_id }, onclick: () => choose(hit.service_id) },
      `${hit.letter} · ${hit.title}`))));
}

async function choose(serviceId) {
  state.service = await api("catalog", `/services/${encodeURIComponent(serviceId)}`, { query: { lang: lang() } });
  const service = state.service;
  $("service-panel").hidden = false;
  $("service-panel").dataset.serviceId = service.service_id;
  $("service-title").textContent = `${service.letter} · ${service.title}`;
  $("service-meta").textContent = [service.description, t("kiosk.minutes", { n: service.expected_minutes })].filter(Boolean).join(" · ");
  $("service-checklist").replaceChildren(await checklistSection(officeId(), service.service_id, { token: token() }));
  const online = service.online?.available && service.online.url;
  $("online-box").hidden = !online;
  $("online-url").textContent = online ? service.online.url : "";
  $("book-box").hidden = !service.appointment_allowed;
  $("result").hidden = true;
  $("ticket").hidden = true;
  for (const form of ["issue-form", "book-form", "online-form"]) {
    $(form).reset();
    clearErrors($(form));
  }
  $("rc-day").value = localDay(timeZone());
  $("rc-day").min = localDay(timeZone());
  await loadSlots();
}

function showResult(text) {
  $("result").textContent = text;
  $("result").hidden = false;
}

// ------------------------------------------------------------------ a ticket on the citizen's behalf

function renderPriorities() {
  const categories = state.office?.configuration?.priority_categories || [];
  $("rc-priority").replaceChildren(el("option", { value: "" }, t("prio.none")),
    ...categories.map((c) => el("option", { value: c.code }, pick(c.title))));
}

async function issue(form) {
  clearErrors(form);
  const data = new FormData(form);
  const priority = String(data.get("priority_category") || "") || null;
  if (priority && !data.get("priority_confirmed")) {
    // A legal priority is the consultant's call, on a document they have seen.
    showErrors(form, { reason: t("rc.priority.unconfirmed"), fields: [{ field: "priority_confirmed", message: t("rc.priority.unconfirmed") }] });
    return;
  }
  try {
    await guarded($("issue"), async (idempotencyKey) => {
      const body = {
        office_id: officeId(), service_id: state.service.service_id, priority_category: priority,
        phone: String(data.get("phone") || "").trim() || null, language: lang(), channel: "reception",
      };
      const ticket = await api("ticketing", "/tickets", { method: "POST", body, token: token(), idempotencyKey });
      renderSlip(document, ticket, { officeName: state.office?.name || "", serviceTitle: state.service.title, timeZone: timeZone() });
      $("ticket").hidden = false;
      showResult(`${t("kiosk.ticket.number")}: ${ticket.number}`);
      form.reset();
    });
  } catch (error) {
    showErrors(form, error);
  }
}

// ------------------------------------------------------------------ an appointment on their behalf

async function loadSlots() {
  if (!state.service?.appointment_allowed) return;
  try {
    await renderSlots($("rc-slots"), $("rc-no-slots"), {
      officeId: officeId(), serviceId: state.service.service_id, day: $("rc-day").value, timeZone: timeZone(),
    });
  } catch (error) {
    showErrors($("book-form"), error);
  }
}

async function book(form) {
  clearErrors(form);
  const data = new FormData(form);
  const body = {
    office_id: officeId(), service_id: state.service.service_id, slot_start: data.get("slot_start"),
    name: String(data.get("name") || "").trim(), phone: String(data.get("phone") || "").trim() || null, language: lang(),
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
      const booked = await api("appointments", "/appointments", { method: "POST", body, token: token(), idempotencyKey });
      const when = dateTimeOf(booked.slot_start, timeZone(), lang() === "en" ? "en-GB" : "ru-RU");
      showResult(t("rc.booked", { when, code: booked.code }));
      $("result").dataset.code = booked.code;
      form.reset();
      await loadSlots();
    });
  } catch (error) {
    showErrors(form, error);
    if (error instanceof ApiError && error.status === 409) loadSlots();
  }
}

// ------------------------------------------------------------------ sent online

async function sendOnline(form) {
  clearErrors(form);
  try {
    await guarded($("send-online"), async () => {
      const recorded = await api("ticketing", "/reception/outcomes", {
        method: "POST", token: token(),
        body: { office_id: officeId(), service_id: state.service.service_id, outcome: "sent_online", language: lang() },
      });
      showResult(t("rc.online.done", { number: recorded.number }));
      $("result").dataset.outcome = recorded.outcome;
    });
  } catch (error) {
    showErrors(form, error);
  }
}

// ------------------------------------------------------------------ signing in, wiring

async function enter(session) {
  if (!ROLES.has(session.role)) {
    forgetStaff(SCOPE);
    showErrors($("signin-form"), { reason: `${session.role}: ${t("rc.title")}`, fields: [] });
    return;
  }
  state.session = session;
  state.office = await api("catalog", `/offices/${encodeURIComponent(officeId())}`, { query: { lang: lang() } });
  $("who").textContent = `· ${session.username} · ${state.office.name}`;
  $("signout").hidden = false;
  renderPriorities();
  showScreen("desk");
  $("rc-q").focus();
}

function wire() {
  staffSignIn(SCOPE, (session) => enter(session).catch((e) => showErrors($("signin-form"), e)));
  $("signout").addEventListener("click", () => {
    forgetStaff(SCOPE);
    location.reload();
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = $("rc-q").value.trim();
    if (query) search(query).catch((error) => showErrors($("search-form"), error));
  });
  $("issue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    issue(event.currentTarget);
  });
  $("book-form").addEventListener("submit", (event) => {
    event.preventDefault();
    book(event.currentTarget);
  });
  $("rc-day").addEventListener("change", loadSlots);
  $("online-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendOnline(event.currentTarget);
  });
  $("print").addEventListener("click", () => window.print());
  onLangChange(() => {
    if (!state.session) return;
    renderPriorities();
    if (state.service) choose(state.service.service_id).catch(() => {});
  });
}

initI18n("reception");
wire();
const session = staffSession(SCOPE);
if (session) enter(session).catch(() => showScreen("signin"));
else showScreen("signin");
