// The kiosk: category -> service (or search) -> checklist (and the online way) -> priority -> phone ->
// a printable ticket with a QR code to the mobile ticket. Appointment check-in by code.

import { nearbyOffices, renderNearby } from "/assets/nearby.js";
import { api, ApiError } from "/assets/api.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { qrSvg } from "/assets/qr.js";
import { checklistTools } from "/assets/checklist-tools.js";
import { renderSlip } from "/assets/slip.js";
import { clearErrors, clock, el, guarded, showErrors, showScreen } from "/assets/ui.js";

const IDLE_RESET_MS = 90_000; // a walk-away visitor's choices must not greet the next one
const KIOSK_TOKEN = "ow.kiosk.token";
const CATEGORIES = ["administrative", "municipal", "social"];
const OFFICE_REFRESH_MS = 30_000; // the "closed" notice follows the clock (cut-off, closing, opening)
const CHECKIN_TICKET_WAIT_MS = 30_000; // the check-in's ticket reaches the queue through Kafka

const state = {
  officeId: null,
  office: null, // OfficeDetail (configuration holds every language)
  services: [],
  listed: [],
  service: null, // ServiceDetail
  priority: null,
  back: "services",
};

const $ = (id) => document.getElementById(id);

function kioskToken() {
  return localStorage.getItem(KIOSK_TOKEN);
}

// ------------------------------------------------------------------ loading

async function loadOffice() {
  state.office = await api("catalog", `/offices/${encodeURIComponent(state.officeId)}`, { query: { lang: lang() } });
  $("office-name").textContent = `· ${state.office.name}`;
  renderClosedNote();
}

/** Why no tickets are issued now, if so: closed (and when it opens) or past today's cut-off. */
function renderClosedNote() {
  const office = state.office;
  const issuing = office.issuing_now ?? office.open_now;
  const note = $("closed-note");
  note.hidden = issuing !== false;
  document.body.dataset.issuing = String(issuing !== false);
  if (issuing !== false) return;
  if (office.open_now && office.closes_at) {
    note.textContent = t("kiosk.closed.at", { time: clock(new Date(office.closes_at), office.timezone) });
  } else if (office.next_opening) {
    const opens = new Date(office.next_opening);
    const day = new Intl.DateTimeFormat(document.documentElement.lang || "ru", { weekday: "long", timeZone: office.timezone }).format(opens);
    note.textContent = t("kiosk.closed.opens", { when: `${day} ${clock(opens, office.timezone)}` });
  } else {
    note.textContent = t("kiosk.closed");
  }
}

async function loadServices() {
  state.services = await api("catalog", `/offices/${encodeURIComponent(state.officeId)}/services`, {
    query: { lang: lang() },
  });
  renderCategories();
}

function renderCategories() {
  const tiles = CATEGORIES.filter((c) => state.services.some((s) => s.category === c)).map((category) => {
    const count = state.services.filter((s) => s.category === category).length;
    return el("button", { type: "button", class: "tile", dataset: { category }, onclick: () => showCategory(category) },
      el("span", { class: "tile-title" }, t(`cat.${category}`)),
      el("span", { class: "tile-hint" }, `${t(`cat.${category}.hint`)} · ${count}`));
  });
  $("categories").replaceChildren(...tiles);
}

function serviceTile(service) {
  return el("button", {
    type: "button", class: "tile", dataset: { serviceId: service.service_id }, onclick: () => chooseService(service.service_id),
  },
  el("span", { class: "letter", "aria-hidden": "true" }, service.letter),
  el("span", { class: "tile-title" }, service.title),
  el("span", { class: "tile-hint" }, t("kiosk.minutes", { n: service.expected_minutes }),
    service.online?.available ? el("span", { class: "badge ok" }, ` ${t("kiosk.online_badge")}`) : null));
}

function renderServiceList(services) {
  state.listed = services;
  $("services-empty").hidden = services.length > 0;
  $("service-list").replaceChildren(...services.map(serviceTile));
  showScreen("services");
}

function showCategory(category) {
  state.category = category;
  state.query = null;
  $("services-title").textContent = t(`cat.${category}`);
  renderServiceList(state.services.filter((s) => s.category === category));
}

async function search(query) {
  const hits = await api("catalog", "/services/search", { query: { q: query, office_id: state.officeId, lang: lang() } });
  state.query = query;
  state.category = null;
  $("services-title").textContent = `${t("kiosk.search")}: «${query}»`;
  renderServiceList(hits);
}

// ------------------------------------------------------------------ a service: checklist, online, priority

async function chooseService(serviceId) {
  state.service = await api("catalog", `/services/${encodeURIComponent(serviceId)}`, { query: { lang: lang() } });
  renderChecklist();
  showScreen("checklist");
}

function renderChecklist() {
  const service = state.service;
  $("checklist-service").textContent = `${service.letter} · ${service.title}`;
  $("missing-hint").hidden = true;
  $("have-all").textContent = t("kiosk.checklist.yes");
  const items = service.checklist.map((item) => {
    const meta = [item.original ? t("kiosk.checklist.original") : null,
      item.copies ? t("kiosk.checklist.copies", { n: item.copies }) : null].filter(Boolean).join(", ");
    return el("li", {}, el("strong", {}, item.title), meta ? el("span", { class: "meta" }, meta) : null,
      item.notes ? el("div", { class: "meta" }, item.notes) : null,
      item.exempt ? el("div", { class: "meta" }, item.exempt) : null);
  });
  $("checklist-items").replaceChildren(...(items.length ? items : [el("li", {}, t("kiosk.checklist.empty"))]));
  $("checklist-tools").replaceChildren(checklistTools(state.officeId, service.service_id, { token: kioskToken() }));
  const online = service.online?.available && service.online.url;
  $("online-box").hidden = !online;
  if (online) $("online-qr").replaceChildren(qrSvg(service.online.url, `${t("kiosk.online.title")}: ${service.online.url}`));
}

function priorityCategories() {
  return state.office?.configuration?.priority_categories || [];
}

function toPriority() {
  const categories = priorityCategories();
  if (!categories.length) {
    state.priority = null;
    toPhone("checklist");
    return;
  }
  const choose = (code) => () => {
    state.priority = code;
    toPhone("priority");
  };
  $("priority-list").replaceChildren(
    el("button", { type: "button", class: "tile accent", dataset: { priority: "none" }, onclick: choose(null) },
      el("span", { class: "tile-title" }, t("prio.none"))),
    ...categories.map((category) => el("button", {
      type: "button", class: "tile", dataset: { priority: category.code }, onclick: choose(category.code),
    }, el("span", { class: "tile-title" }, pick(category.title)))),
  );
  showScreen("priority");
}

function toPhone(back) {
  state.back = back;
  const form = $("ticket-form");
  form.reset();
  clearErrors(form);
  showScreen("phone");
}

// ------------------------------------------------------------------ the ticket

async function takeTicket(button, phone) {
  const form = $("ticket-form");
  clearErrors(form);
  try {
    await guarded(button, async (idempotencyKey) => {
      const body = {
        office_id: state.officeId,
        service_id: state.service.service_id,
        priority_category: state.priority,
        language: lang(),
        phone: phone || null,
        channel: "kiosk",
      };
      const ticket = await api("ticketing", "/tickets", { method: "POST", body, token: kioskToken(), idempotencyKey });
      showTicket(ticket);
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) localStorage.removeItem(KIOSK_TOKEN);
    if (error instanceof ApiError && error.code === "IssuingStopped") loadOffice().catch(() => {});
    showErrors(form, error);
  }
}

function showTicket(ticket, serviceTitle = state.service?.title || "", checkedIn = false) {
  renderSlip(document, ticket, { officeName: state.office?.name || "", serviceTitle, timeZone: state.office?.timezone });
  $("slip-checked-in").hidden = !checkedIn;
  showScreen("ticket");
  // A faster office nearby, for a walk-in (an appointment is kept here).
  $("nearby").hidden = true;
  const serviceId = ticket.service_id || state.service?.service_id;
  if (serviceId && !checkedIn) nearbyOffices(state.officeId, serviceId).then((result) => renderNearby($("nearby"), result));
}

// ------------------------------------------------------------------ check-in

async function checkIn(form) {
  const button = $("checkin-submit");
  clearErrors(form);
  $("checkin-result").hidden = true;
  const code = String(new FormData(form).get("code") || "").trim().toUpperCase();
  if (!code) {
    showErrors(form, { reason: t("common.required"), fields: [{ field: "code", message: t("common.required") }] });
    return;
  }
  try {
    await guarded(button, async () => {
      const done = await api("appointments", "/checkin", { method: "POST", body: { office_id: state.officeId, code }, token: kioskToken() });
      const service = state.services.find((s) => s.service_id === done.service_id);
      const when = clock(new Date(done.slot_start), state.office?.timezone);
      $("checkin-result").textContent = `✓ ${service ? service.title : done.service_id}, ${when}. ${t("kiosk.checkin.waiting")}`;
      $("checkin-result").hidden = false;
      // The ticket is issued by the queue when the check-in reaches it: show and print it like a walk-in's.
      const ticket = await checkInTicket(done.appointment_id);
      form.reset();
      if (ticket) showTicket(ticket, service ? service.title : done.service_id, true);
      else $("checkin-result").textContent = `✓ ${service ? service.title : done.service_id}, ${when}. ${t("kiosk.ticket.watch")}`;
    });
  } catch (error) {
    showErrors(form, error);
  }
}

/** The check-in's ticket (number, place, link), polled until the queue has it; null after the wait. */
async function checkInTicket(appointmentId) {
  const deadline = Date.now() + CHECKIN_TICKET_WAIT_MS;
  const path = `/offices/${encodeURIComponent(state.officeId)}/appointment-tickets/${encodeURIComponent(appointmentId)}`;
  while (Date.now() < deadline) {
    try {
      return await api("ticketing", path, { token: kioskToken() });
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 404 && !error.offline)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

// ------------------------------------------------------------------ setup, idle reset, wiring

function goHome() {
  state.service = null;
  state.priority = null;
  $("search-form").reset();
  $("checkin-form").reset();
  clearErrors(document);
  if (state.office) renderClosedNote(); // the office's notice is no form error: it stays
  $("checkin-result").hidden = true;
  showScreen("home");
}

let idleTimer = null;
function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if ($("home").hidden && $("setup").hidden) goHome();
  }, IDLE_RESET_MS);
}

function wire() {
  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => showScreen(button.dataset.go));
  }
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = $("search-q").value.trim();
    if (query) await search(query).catch((error) => showErrors($("search-form"), error));
  });
  $("to-checkin").addEventListener("click", () => showScreen("checkin"));
  $("have-all").addEventListener("click", toPriority);
  $("missing").addEventListener("click", () => {
    $("missing-hint").hidden = false;
    $("have-all").textContent = t("kiosk.online.continue");
  });
  $("ticket-form").addEventListener("submit", (event) => {
    event.preventDefault();
    takeTicket($("take-ticket"), $("phone-input").value.trim());
  });
  $("take-without-phone").addEventListener("click", () => takeTicket($("take-without-phone"), null));
  $("phone-back").addEventListener("click", () => showScreen(state.back));
  $("print").addEventListener("click", () => window.print());
  $("ticket-done").addEventListener("click", goHome);
  $("checkin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    checkIn(event.currentTarget);
  });
  $("setup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    try {
      await guarded(form.querySelector("[type=submit]"), async () => {
        const data = new FormData(form);
        const session = await api("catalog", "/auth/token", {
          method: "POST", body: { username: String(data.get("username")).trim(), password: String(data.get("password")) },
        });
        if (session.role !== "kiosk" && session.role !== "admin") {
          throw new ApiError(403, `${session.role}: ${t("kiosk.setup.text")}`, [{ field: "username", message: session.role }]);
        }
        localStorage.setItem(KIOSK_TOKEN, session.access_token);
        if (session.office_id) state.officeId = session.office_id;
        form.reset();
        const url = new URL(location.href);
        url.searchParams.delete("setup");
        url.searchParams.set("office", state.officeId);
        history.replaceState(null, "", url);
        await start();
      });
    } catch (error) {
      showErrors(form, error);
    }
  });
  for (const type of ["pointerdown", "keydown"]) addEventListener(type, touched, { passive: true });
  addEventListener("ow:reconnected", () => refresh().catch(() => {}));
  onLangChange(() => refresh().catch(() => {}));
}

function currentScreen() {
  return document.querySelector(".screen:not([hidden])")?.id;
}

/** Reloads the texts in the new language and redraws the screen in view, if the visitor is still on it. */
async function refresh() {
  if (!state.officeId) return;
  const screen = currentScreen();
  await loadOffice();
  await loadServices();
  if (currentScreen() !== screen) return; // the visitor moved on meanwhile: do not pull them back
  if (screen === "checklist" && state.service) {
    state.service = await api("catalog", `/services/${encodeURIComponent(state.service.service_id)}`, { query: { lang: lang() } });
    if (currentScreen() === "checklist") renderChecklist();
  } else if (screen === "services") {
    if (state.category) {
      $("services-title").textContent = t(`cat.${state.category}`);
      state.listed = state.services.filter((s) => s.category === state.category);
      $("service-list").replaceChildren(...state.listed.map(serviceTile));
    } else if (state.query) {
      const hits = await api("catalog", "/services/search", { query: { q: state.query, office_id: state.officeId, lang: lang() } });
      if (currentScreen() === "services") $("service-list").replaceChildren(...hits.map(serviceTile));
    }
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  const office = params.get("office") || localStorage.getItem("ow.office.kiosk");
  if (office) localStorage.setItem("ow.office.kiosk", office);
  state.officeId = office;
  if (params.has("setup") || !state.officeId) {
    showScreen("setup");
    return;
  }
  await loadOffice();
  await loadServices();
  goHome();
  clearInterval(state.officeTimer);
  state.officeTimer = setInterval(() => loadOffice().catch(() => {}), OFFICE_REFRESH_MS);
}

initI18n("kiosk");
wire();
start().catch((error) => {
  document.querySelector("main").prepend(el("p", { class: "form-error", role: "alert" }, error.reason || String(error)));
});
