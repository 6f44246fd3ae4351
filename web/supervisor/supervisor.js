// The supervisor dashboard: waiting per service in traffic-light colours against the wait target,
// open windows, the SLA forecast, today's figures, low-rating alerts to take in hand, charts of the day.

import { api, ApiError } from "/assets/api.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { forgetStaff, staffSession, staffSignIn } from "/assets/signin.js";
import { clearErrors, clock, el, guarded, showErrors } from "/assets/ui.js";
import { lineChart, barChart } from "/supervisor/charts.js";
import { staffNames, wireHistory } from "/supervisor/history.js";
import { wireCityShare } from "/assets/city-share.js";
import { openStream } from "/assets/sse.js";

const SCOPE = "supervisor";
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const state = { session: null, office: null, services: new Map(), queue: null, kpis: null, live: null, windows: [], alerts: [] };

/** The regional traffic light (DOMAIN.md): green < 10 min, yellow 11-20, orange 21-30, red > 30. */
export function lightFor(minutes) {
  if (minutes > 30) return "red";
  if (minutes > 20) return "orange";
  if (minutes > 10) return "yellow";
  return "green";
}

function officePath(suffix) {
  return `/offices/${encodeURIComponent(state.session.office_id)}${suffix}`;
}

function staff(service, path, options = {}) {
  return api(service, path, { ...options, token: state.session.access_token });
}

function slaMinutes() {
  return state.office?.configuration?.sla?.max_wait_minutes || 15;
}

function title(serviceId) {
  const s = state.services.get(serviceId);
  return s ? `${s.letter} · ${s.title}` : serviceId;
}

// ------------------------------------------------------------------ live queue and forecast

function renderLive() {
  const rows = (state.queue?.services || []).map((s) => {
    const longest = Math.round(s.longest_wait_seconds / 60);
    const light = lightFor(Math.max(longest, s.waiting ? s.estimated_wait_minutes : 0));
    return el("tr", { class: `sla-${light}`, dataset: { serviceId: s.service_id, light } },
      el("td", {}, el("span", { class: "light-dot", role: "img", "aria-label": t(`sv.light.${light}`) }), title(s.service_id)),
      el("td", { class: "num" }, String(s.waiting)),
      el("td", { class: "num" }, t("common.min", { n: longest })),
      el("td", { class: "num" }, s.waiting ? t("common.about_min", { n: s.estimated_wait_minutes }) : "—"),
      el("td", { class: "num" }, String(s.open_windows)));
  });
  $("live-rows").replaceChildren(...rows);
  $("legend").replaceChildren(...["green", "yellow", "orange", "red"].map((light) =>
    el("span", { class: `sla-${light}` }, el("span", { class: "light-dot", "aria-hidden": "true" }), t(`sv.light.${light}`))));
}

function renderForecast() {
  const sla = slaMinutes();
  const services = state.queue?.services || [];
  const worst = services.reduce((max, s) => Math.max(max, s.waiting ? s.estimated_wait_minutes : 0,
    Math.round(s.longest_wait_seconds / 60)), 0);
  const kind = worst > sla ? "breach" : worst > sla * 0.8 ? "risk" : "ok";
  const openWindows = state.queue?.open_windows || 0;
  // Windows needed so the estimate falls within the target, if the service rate per window holds.
  const needed = kind === "ok" || !openWindows ? 0 : Math.ceil((openWindows * worst) / sla) - openWindows;
  $("forecast").className = `forecast ${kind}`;
  $("forecast").dataset.kind = kind;
  $("forecast").textContent = t(`sv.sla.${kind}`, { sla }) + (needed > 0 ? ` (+${needed} ${t("common.window").toLowerCase()})` : "");
  const open = state.windows.filter((w) => w.state !== "closed");
  $("windows").replaceChildren(...(open.length ? open.map((w) => el("li", { dataset: { window: w.window_no } },
    el("strong", {}, t("op.window", { n: w.window_no })),
    el("span", { class: `badge ${w.state === "open" ? "ok" : "warn"}` }, t(`op.status.${w.state}`)))) :
    [el("li", { class: "muted" }, t("sv.no_windows"))]));
}

/** Operator pseudonyms in a timeline line, replaced by the names of the office's staff. */
function withNames(text) {
  return String(text || "").replace(/\b[0-9a-f]{16}\b/g, (ref) => staffNames.get(ref) || ref);
}

// ------------------------------------------------------------------ live SLA feed (notifier SSE)

const sla = { stream: null, items: [], suggestions: [], refreshed: 0 };

function renderSla() {
  $("suggestions").replaceChildren(...sla.suggestions.map((s) => el("li", { class: "suggestion", dataset: { serviceId: s.service_id } },
    t("sv.open_more", { n: s.more_windows, service: title(s.service_id), waiting: s.waiting, minutes: s.estimated_wait_minutes }))));
  const items = sla.items.slice(-8).reverse();
  $("sla-feed").replaceChildren(...(items.length ? items.map((item) => el("li", { class: `sla-item ${item.kind}`, dataset: { kind: item.kind, seq: item.seq } },
    el("time", { datetime: item.at }, clock(new Date(item.at), state.office?.timezone)), " ",
    el("strong", {}, item.number), " · ", title(item.service_id), " · ",
    item.kind === "breached"
      ? t("sv.sla_breached", { waited: item.waited_minutes, sla: item.sla_minutes })
      : t("sv.sla_predicted", { waited: item.waited_minutes, predicted: item.predicted_minutes, sla: item.sla_minutes }))) :
    [el("li", { class: "muted" }, t("sv.sla_none"))]));
}

function openSlaFeed() {
  sla.stream?.close();
  sla.items = [];
  sla.suggestions = [];
  sla.stream = openStream(`/api/notifier${officePath("/sla/stream")}`, {
    headers: { Authorization: `Bearer ${state.session.access_token}` },
    onState: (live) => { $("sla-feed").dataset.state = live; },
    onEvent: ({ type, data }) => {
      if (type === "snapshot") {
        sla.items = data.items || [];
        sla.suggestions = data.suggestions || [];
      } else if (type === "sla") {
        sla.items = [...sla.items.filter((i) => i.seq !== data.seq), data];
      } else if (type === "suggestions") {
        sla.suggestions = data || [];
      }
      renderSla();
      // The queue table and the forecast follow at once rather than at the next poll.
      if (type !== "snapshot" && state.session && Date.now() - sla.refreshed > 2000) {
        sla.refreshed = Date.now();
        refresh().catch(() => {});
      }
    },
  });
  renderSla();
}

// ------------------------------------------------------------------ KPIs, alerts, charts

function fmtMinutes(seconds) {
  return seconds == null ? "—" : t("common.min", { n: Math.round(seconds / 60) });
}

function fmtShare(value) {
  return value == null ? "—" : `${Math.round(value * 100)}%`;
}

function renderKpis() {
  const k = state.kpis || {};
  const live = state.live || {};
  const items = [
    ["visits", k.visits ?? live.visits_today], ["served", k.served_visits ?? live.served_today],
    ["avg_wait", fmtMinutes(k.wait_mean_seconds)], ["avg_service", fmtMinutes(k.service_mean_seconds)],
    ["sla", fmtShare(k.within_sla_share)], ["no_shows", k.no_shows],
    ["rating", k.rating_mean != null ? k.rating_mean.toFixed(2) : "—"], ["ratings", k.ratings ?? live.ratings_today],
    ["online", k.visits ? fmtShare((k.online_could_have_done || 0) / k.visits) : "—"],
  ];
  $("kpis").replaceChildren(...items.map(([key, value]) => el("div", { class: "kpi", dataset: { kpi: key } },
    el("span", {}, t(`sv.kpi.${key}`)), el("strong", {}, value ?? "0"))));
}

function renderAlerts() {
  const alerts = state.alerts.filter((a) => a.state !== "resolved");
  if (!alerts.length) {
    $("alerts").replaceChildren(el("li", { class: "muted", style: "border-left-color: var(--ok)" }, t("sv.no_alerts")));
    return;
  }
  $("alerts").replaceChildren(...alerts.map((alert) => {
    const form = el("form", { class: "row", novalidate: true },
      el("label", { class: "visually-hidden", for: `note-${alert.alert_id}` }, t("sv.note")),
      el("input", { id: `note-${alert.alert_id}`, name: "note", class: "grow", placeholder: t("sv.note"), maxlength: 2000 }),
      el("button", { type: "submit", class: "secondary" }, t("sv.resolve")),
      el("p", { class: "form-error", role: "alert", hidden: true }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      resolve(alert, form);
    });
    const ack = alert.state === "open"
      ? el("button", { type: "button", onclick: (event) => acknowledge(alert, event.currentTarget) }, t("sv.ack"))
      : el("span", { class: "badge warn" }, t("sv.acknowledged"));
    const opened = state.openAlert === alert.alert_id;
    const toggle = el("button", { type: "button", class: "link", "aria-expanded": String(opened),
      onclick: () => { state.openAlert = opened ? null : alert.alert_id; renderAlerts(); } },
      `${t("sv.rating_of", { n: alert.rating })} · ${title(alert.service_id)}`);
    const timeline = opened ? el("ol", { class: "timeline", dataset: { timeline: alert.alert_id } },
      ...(alert.timeline || []).map((entry) => el("li", { dataset: { what: entry.what } },
        el("time", { datetime: entry.at }, clock(new Date(entry.at), state.office?.timezone)), " ",
        el("strong", {}, t(`sv.tl.${entry.what.split(".").pop()}`)), " ", withNames(entry.detail)))) : null;
    return el("li", { class: alert.state, dataset: { alertId: alert.alert_id, rating: alert.rating } },
      el("div", { class: "row" },
        el("strong", { class: "grow" }, toggle),
        ack),
      timeline,
      el("div", { class: "muted" }, [clock(new Date(alert.raised_at), state.office?.timezone),
        alert.window_no ? t("op.window", { n: alert.window_no }) : null,
        ...(alert.tags || []).map((tag) => t(`tag.${tag}`))].filter(Boolean).join(" · ")),
      form);
  }));
}

async function acknowledge(alert, button) {
  try {
    await guarded(button, () => staff("feedback", `/alerts/${encodeURIComponent(alert.alert_id)}/acknowledge`, { method: "POST" }));
  } catch (error) {
    button.closest("li").querySelector(".form-error").textContent = error.reason;
    button.closest("li").querySelector(".form-error").hidden = false;
    return;
  }
  await refreshAlerts();
}

async function resolve(alert, form) {
  clearErrors(form);
  const note = String(new FormData(form).get("note") || "").trim();
  if (!note) {
    showErrors(form, { reason: t("common.required"), fields: [{ field: "note", message: t("common.required") }] });
    return;
  }
  try {
    await guarded(form.querySelector("button"), () =>
      staff("feedback", `/alerts/${encodeURIComponent(alert.alert_id)}/resolve`, { method: "POST", body: { note } }));
    await refreshAlerts();
  } catch (error) {
    showErrors(form, error);
  }
}

// Samples of the queue, kept for the day in this browser: the chart of waiting and the longest wait.
function sampleKey() {
  return `ow.sv.samples.${state.session.office_id}.${new Date().toISOString().slice(0, 10)}`;
}

function addSample() {
  if (!state.queue) return [];
  const samples = JSON.parse(localStorage.getItem(sampleKey()) || "[]");
  const now = Date.now();
  const sample = { at: now, waiting: state.queue.waiting, longest: Math.round(state.queue.longest_wait_seconds / 60) };
  if (samples.length && now - samples[samples.length - 1].at < 60_000) samples[samples.length - 1] = sample;
  else samples.push(sample);
  localStorage.setItem(sampleKey(), JSON.stringify(samples.slice(-24 * 60)));
  return samples;
}

function renderCharts(samples) {
  const distribution = state.kpis?.rating_distribution || {};
  const tz = state.office?.timezone;
  $("chart").replaceChildren(el("div", { class: "row", style: "align-items: flex-start" },
    el("div", { class: "grow", style: "min-width: 420px; flex: 3" }, lineChart({
      points: samples.map((s) => ({ x: s.at, a: s.waiting, b: s.longest })),
      labelA: t("sv.waiting"), labelB: `${t("sv.longest")}, ${t("common.min", { n: "" }).trim()}`,
      threshold: slaMinutes(), xLabel: (x) => clock(new Date(x), tz),
      title: t("sv.chart"),
    })),
    el("div", { style: "min-width: 260px; flex: 1" }, barChart({
      bars: [1, 2, 3, 4, 5].map((n) => ({ label: `${n}★`, value: Number(distribution[String(n)] || 0), bad: n <= 2 })),
      title: t("sv.kpi.ratings"),
    }))));
}

// ------------------------------------------------------------------ refresh loop

async function refreshAlerts() {
  state.alerts = await staff("feedback", officePath("/alerts"));
  renderAlerts();
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  const results = await Promise.allSettled([
    api("ticketing", officePath("/queue")).then((q) => { state.queue = q; }),
    staff("ticketing", officePath("/windows")).then((w) => { state.windows = w; }),
    staff("feedback", officePath("/kpis")).then((k) => { state.kpis = k; }),
    staff("feedback", officePath("/live")).then((l) => { state.live = l; }),
    refreshAlerts(),
  ]);
  const unauthorized = results.find((r) => r.status === "rejected" && r.reason instanceof ApiError && r.reason.status === 401);
  if (unauthorized) return signOut();
  renderLive();
  renderForecast();
  renderKpis();
  renderCharts(addSample());
  document.body.dataset.refreshed = String(Date.now());
  timer = setTimeout(() => refresh().catch(() => {}), POLL_MS);
  return undefined;
}

async function loadOffice() {
  const officeId = state.session.office_id;
  state.office = await api("catalog", `/offices/${encodeURIComponent(officeId)}`, { query: { lang: lang() } });
  const services = await api("catalog", `/offices/${encodeURIComponent(officeId)}/services`, { query: { lang: lang() } });
  state.services = new Map(services.map((s) => [s.service_id, s]));
  $("who").textContent = t("signin.as", { user: state.session.username, office: pick(state.office.name) });
}

function showDashboard(visible) {
  $("signin").hidden = visible;
  for (const card of document.querySelectorAll(".dash")) card.hidden = !visible;
  $("signout").hidden = !visible;
}

async function begin(session) {
  state.session = session;
  await loadOffice();
  showDashboard(true);
  openSlaFeed();
  await wireHistory({ token: () => state.session.access_token, officeId: () => state.session.office_id, title });
  wireCityShare({ section: $("city"), token: () => state.session.access_token });
  await refresh();
}

function signOut() {
  clearTimeout(timer);
  sla.stream?.close();
  sla.stream = null;
  forgetStaff(SCOPE);
  state.session = null;
  $("who").textContent = "";
  showDashboard(false);
}

initI18n("supervisor");
staffSignIn(SCOPE, (session) => begin(session).catch((e) => showErrors($("signin-form"), e)));
$("signout").addEventListener("click", signOut);
addEventListener("ow:reconnected", () => state.session && refresh().catch(() => {}));
onLangChange(async () => {
  if (!state.session) return;
  await loadOffice().catch(() => {});
  await refresh().catch(() => {});
});
const existing = staffSession(SCOPE);
if (existing) begin(existing).catch(() => signOut());
else showDashboard(false);
