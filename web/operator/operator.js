// The operator console: sign in, open a window for services, then call, recall, start, complete,
// transfer, pause and close; the current ticket's checklist and today's counts stay on screen.

import { printableChecklistUrl } from "/assets/checklist-tools.js";
import { api, ApiError } from "/assets/api.js";
import { initI18n, lang, onLangChange, t } from "/assets/i18n.js";
import { forgetStaff, staffSession, staffSignIn } from "/assets/signin.js";
import { clearErrors, el, guarded, showErrors, showScreen } from "/assets/ui.js";

const SCOPE = "operator";
const POLL_MS = 4000;
const $ = (id) => document.getElementById(id);

const state = {
  session: null,
  office: null,
  services: new Map(), // service_id -> summary in the current language
  windowNo: null,
  view: null, // {window, ticket, today}
  checklists: new Map(),
};

function path() {
  return `/windows/${encodeURIComponent(state.session.office_id)}/${state.windowNo}`;
}

function call(method, suffix, body) {
  return api("ticketing", `${path()}${suffix}`, { method, body, token: state.session.access_token });
}

function serviceTitle(id) {
  const s = state.services.get(id);
  return s ? `${s.letter} · ${s.title}` : id;
}

// ------------------------------------------------------------------ sign-in and the window

async function loadOffice() {
  const officeId = state.session.office_id;
  state.office = await api("catalog", `/offices/${encodeURIComponent(officeId)}`, { query: { lang: lang() } });
  const services = await api("catalog", `/offices/${encodeURIComponent(officeId)}/services`, { query: { lang: lang() } });
  state.services = new Map(services.map((s) => [s.service_id, s]));
  $("who").textContent = t("signin.as", { user: state.session.username, office: state.office.name });
}

function zoneOfWindow(windowNo) {
  return state.office.configuration.zones.find((z) => z.windows.includes(windowNo));
}

function renderOpenForm() {
  const windows = state.office.configuration.zones.flatMap((z) => z.windows).sort((a, b) => a - b);
  const remembered = Number(sessionStorage.getItem("ow.operator.window")) ||
    Number((state.session.username.match(/-(\d+)$/) || [])[1]) || windows[0];
  $("window-no").replaceChildren(...windows.map((n) => el("option", { value: n, selected: n === remembered }, String(n))));
  renderServiceChecks();
}

function renderServiceChecks() {
  const zone = zoneOfWindow(Number($("window-no").value));
  const items = [...state.services.values()].map((s) => el("label", {},
    el("input", { type: "checkbox", name: "service_ids", value: s.service_id, checked: zone && s.zone_id === zone.zone_id }),
    `${s.letter} · ${s.title}`));
  $("service-checks").replaceChildren(...items);
}

async function openWindow(form) {
  clearErrors(form);
  const data = new FormData(form);
  const body = {
    office_id: state.session.office_id,
    window_no: Number(data.get("window_no")),
    service_ids: data.getAll("service_ids"),
  };
  try {
    await guarded($("open-submit"), async () => {
      await api("ticketing", "/windows/open", { method: "POST", body, token: state.session.access_token });
      state.windowNo = body.window_no;
      sessionStorage.setItem("ow.operator.window", String(body.window_no));
      await refresh();
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
    else showErrors(form, error);
  }
}

// ------------------------------------------------------------------ the console

function stateBadge(node, value, kind) {
  node.textContent = value ? t(`${kind}.${value}`) : "";
  node.className = `badge ${value === "serving" || value === "open" ? "ok" : value === "paused" || value === "called" ? "warn" : ""}`;
}

function renderConsole() {
  const { window: win, ticket, today } = state.view;
  $("window-title").textContent = t("op.window", { n: win.window_no });
  stateBadge($("window-state"), win.state, "op.status");
  const zone = state.office.configuration.zones.find((z) => z.zone_id === win.zone_id);
  $("window-title").title = zone ? zone.name[lang()] || zone.name.ru : win.zone_id;

  $("current-number").textContent = ticket ? ticket.number : "—";
  $("current-service").textContent = ticket ? serviceTitle(ticket.service_id) : "";
  $("current-meta").textContent = ticket
    ? [ticket.waited_seconds != null ? t("op.waited", { n: Math.round(ticket.waited_seconds / 60) }) : null,
      t("op.calls", { n: ticket.calls }), ticket.priority_category].filter(Boolean).join(" · ")
    : "";
  stateBadge($("current-state"), ticket?.state, "state");
  $("idle").hidden = Boolean(ticket);

  const open = win.state === "open";
  const called = ticket?.state === "called";
  const serving = ticket?.state === "serving";
  $("call-next").disabled = !open || Boolean(ticket);
  $("recall").disabled = !called;
  $("start").disabled = !called;
  $("no-show").disabled = !called;
  $("complete").disabled = !serving;
  $("outcome").disabled = !serving;
  $("transfer").disabled = !(serving || called);
  $("transfer-to").disabled = !(serving || called);
  $("pause").hidden = win.state !== "open";
  $("pause").disabled = Boolean(ticket);
  $("resume").hidden = win.state !== "paused";
  $("close-window").disabled = Boolean(ticket);

  const targets = [...state.services.values()].filter((s) => s.service_id !== ticket?.service_id);
  const chosen = $("transfer-to").value;
  $("transfer-to").replaceChildren(...targets.map((s) => el("option", { value: s.service_id, selected: s.service_id === chosen },
    `${s.letter} · ${s.title}`)));

  $("counts").replaceChildren(
    ...[["served", today.served], ["no_show", today.no_show], ["transferred", today.transferred_or_next]]
      .map(([key, n]) => el("div", { class: "count", dataset: { count: key } }, el("strong", {}, String(n ?? 0)), t(`op.count.${key}`))),
  );
  renderChecklist(ticket?.service_id);
}

async function renderChecklist(serviceId) {
  $("op-checklist-print").hidden = !serviceId;
  if (!serviceId) {
    $("op-checklist").replaceChildren(el("li", { class: "muted" }, "—"));
    return;
  }
  $("op-checklist-print").href = printableChecklistUrl(serviceId);
  const key = `${serviceId}:${lang()}`;
  if (!state.checklists.has(key)) {
    const detail = await api("catalog", `/services/${encodeURIComponent(serviceId)}`, { query: { lang: lang() } });
    state.checklists.set(key, detail.checklist);
  }
  $("op-checklist").replaceChildren(...state.checklists.get(key).map((item) => el("li", {},
    el("strong", {}, item.title),
    el("span", { class: "meta" }, [item.original ? t("kiosk.checklist.original") : null,
      item.copies ? t("kiosk.checklist.copies", { n: item.copies }) : null].filter(Boolean).join(", ")))));
}

async function renderQueue() {
  const queue = await api("ticketing", `/offices/${encodeURIComponent(state.session.office_id)}/queue`);
  const mine = new Set(state.view?.window.service_ids || []);
  const rows = (queue.services || []).filter((s) => mine.has(s.service_id));
  const waiting = rows.reduce((sum, s) => sum + s.waiting, 0);
  $("queue-mini").replaceChildren(
    el("li", { dataset: { count: "waiting" } }, el("strong", {}, t("op.count.waiting")), el("strong", {}, String(waiting))),
    ...rows.map((s) => el("li", {}, el("span", {}, serviceTitle(s.service_id)), el("span", {}, `${s.waiting} · ${t("common.about_min", { n: s.estimated_wait_minutes })}`))),
  );
}

let pollTimer = null;

async function refresh() {
  clearTimeout(pollTimer);
  try {
    state.view = await api("ticketing", path(), { token: state.session.access_token });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut();
    if (error instanceof ApiError && (error.status === 404 || error.status === 409 || error.status === 422 || error.status === 403)) {
      // The window is not open (or not ours): pick and open one.
      state.windowNo = null;
      sessionStorage.removeItem("ow.operator.window");
      renderOpenForm();
      $("side").hidden = true;
      showScreen("open");
      return undefined;
    }
    pollTimer = setTimeout(refresh, POLL_MS);
    throw error;
  }
  if (state.view.window.state === "closed") {
    state.windowNo = null;
    sessionStorage.removeItem("ow.operator.window");
    renderOpenForm();
    $("side").hidden = true;
    showScreen("open");
    return undefined;
  }
  if ($("console").hidden) {
    showScreen("console");
    $("side").hidden = false;
  }
  renderConsole();
  await renderQueue().catch(() => {});
  pollTimer = setTimeout(() => refresh().catch(() => {}), POLL_MS);
  return undefined;
}

/** One console action: button disabled while it runs, the reason shown where the operator looks. */
async function act(button, run, form = null) {
  const target = form || $("console");
  clearErrors(target);
  clearErrors($("console"));
  try {
    await guarded(button, run);
    await refresh();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut();
    if (form) showErrors(form, error);
    else {
      $("console-error").textContent = error.reason || String(error);
      $("console-error").hidden = false;
    }
    await refresh().catch(() => {});
  }
  return undefined;
}

function ticketRef() {
  return state.view?.ticket ? { ticket_id: state.view.ticket.ticket_id } : {};
}

function wireConsole() {
  $("call-next").addEventListener("click", () => act($("call-next"), () => call("POST", "/call-next")));
  $("recall").addEventListener("click", () => act($("recall"), () => call("POST", "/recall", ticketRef())));
  $("start").addEventListener("click", () => act($("start"), () => call("POST", "/start", ticketRef())));
  $("no-show").addEventListener("click", () => act($("no-show"), () => call("POST", "/no-show", ticketRef())));
  $("complete-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act($("complete"), () => call("POST", "/complete", { ...ticketRef(), outcome: $("outcome").value }), $("complete-form"));
  });
  $("transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act($("transfer"), () => call("POST", "/transfer", { ...ticketRef(), to_service_id: $("transfer-to").value }), $("transfer-form"));
  });
  $("pause").addEventListener("click", () => act($("pause"), () => call("POST", "/pause", {})));
  $("resume").addEventListener("click", () => act($("resume"), () => call("POST", "/resume")));
  $("close-window").addEventListener("click", () => act($("close-window"), () => call("POST", "/close")));
}

// ------------------------------------------------------------------ start

function signOut() {
  clearTimeout(pollTimer);
  forgetStaff(SCOPE);
  state.session = null;
  $("who").textContent = "";
  $("signout").hidden = true;
  $("side").hidden = true;
  showScreen("signin");
}

async function begin(session) {
  state.session = session;
  $("signout").hidden = false;
  await loadOffice();
  state.windowNo = Number(sessionStorage.getItem("ow.operator.window")) || null;
  if (state.windowNo) {
    await refresh();
  } else {
    renderOpenForm();
    showScreen("open");
  }
}

initI18n("operator");
staffSignIn(SCOPE, (session) => begin(session).catch((e) => showErrors($("signin-form"), e)));
$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  openWindow(event.currentTarget);
});
$("window-no").addEventListener("change", renderServiceChecks);
$("signout").addEventListener("click", signOut);
wireConsole();
addEventListener("ow:reconnected", () => state.windowNo && refresh().catch(() => {}));
onLangChange(async () => {
  if (!state.session) return;
  await loadOffice().catch(() => {});
  if (state.view && !$("console").hidden) renderConsole();
  else if (!$("open").hidden) renderOpenForm();
});

const existing = staffSession(SCOPE);
if (existing) begin(existing).catch(() => signOut());
else showScreen("signin");
