// The supervisor's history: a period (last week, last month or any dates), its figures in total, per
// service and per operator (by name for the office's own staff), per week and month, a chart of the
// days, the CSV of the period, and the digital share (online vs in-office applications, goal 78%).

import { api } from "/assets/api.js";
import { t } from "/assets/i18n.js";
import { clearErrors, el, guarded, showErrors } from "/assets/ui.js";
import { barChart, lineChart } from "/supervisor/charts.js";

const $ = (id) => document.getElementById(id);

/** YYYY-MM-DD of a local date. */
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The last full Monday-Sunday week and the last full calendar month before `today`. */
export function rangeOf(kind, today = new Date()) {
  const day = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (kind === "last-week") {
    const monday = new Date(day);
    monday.setDate(day.getDate() - ((day.getDay() + 6) % 7) - 7);
    const sunday = new Date(monday);
    sunday.setDate(monday.getDate() + 6);
    return [isoDay(monday), isoDay(sunday)];
  }
  const first = new Date(day.getFullYear(), day.getMonth() - 1, 1);
  const last = new Date(day.getFullYear(), day.getMonth(), 0);
  return [isoDay(first), isoDay(last)];
}

const minutes = (seconds) => (seconds == null ? "—" : t("common.min", { n: Math.round(seconds / 60) }));
const share = (value) => (value == null ? "—" : `${Math.round(value * 100)}%`);
const rating = (value) => (value == null ? "—" : value.toFixed(2));

const COLUMNS = [
  ["visits", (f) => f.visits],
  ["p50", (f) => minutes(f.wait_p50_seconds)],
  ["p90", (f) => minutes(f.wait_p90_seconds)],
  ["service", (f) => minutes(f.service_mean_seconds)],
  ["no_shows", (f) => f.no_shows],
  ["sla", (f) => share(f.within_sla_share)],
  ["rating", (f) => rating(f.rating_mean)],
];

function table(kind, firstHeader, rows) {
  return el("table", { class: "history-table", dataset: { table: kind } },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, firstHeader),
      ...COLUMNS.map(([key]) => el("th", { scope: "col", class: "num" }, t(`sv.col.${key}`))))),
    el("tbody", {}, ...rows.map(([label, figures, key]) => el("tr", { dataset: { key } },
      el("th", { scope: "row" }, label),
      ...COLUMNS.map(([name, value]) => el("td", { class: "num", dataset: { col: name } }, String(value(figures) ?? 0)))))));
}

function shareTable(digital, title) {
  const rows = digital.services.filter((row) => row.online || row.in_office || row.could_have_been_online);
  return el("table", { class: "history-table", dataset: { table: "digital" } },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("common.service")),
      ...["online", "in_office", "share", "could", "sent"].map((key) => el("th", { scope: "col", class: "num" }, t(`sv.digital.${key}`))))),
    el("tbody", {}, ...rows.map((row) => el("tr", { dataset: { key: row.service_id } },
      el("th", { scope: "row" }, title(row.service_id)),
      el("td", { class: "num" }, String(row.online)), el("td", { class: "num" }, String(row.in_office)),
      el("td", { class: `num ${row.meets_goal === false ? "bad" : ""}` }, row.has_online_alternative ? share(row.share_online) : "—"),
      el("td", { class: "num" }, String(row.could_have_been_online)), el("td", { class: "num" }, String(row.sent_online))))));
}

/** operator_ref -> username of the office's staff (supervisors see whose figures they read). */
export const staffNames = new Map();

export function wireHistory({ token, officeId, title }) {
  const form = $("history-form");
  const names = staffNames;
  const office = () => `/offices/${encodeURIComponent(officeId())}`;

  async function loadNames() {
    try {
      const people = await api("catalog", `${office()}/staff`, { token: token() });
      for (const person of people) names.set(person.operator_ref, person.username);
    } catch {
      // Without the staff list the operators stay pseudonyms.
    }
  }

  function period() {
    const data = new FormData(form);
    return { from: String(data.get("from") || ""), to: String(data.get("to") || "") };
  }

  function render(history, digital) {
    const total = history.total;
    const kpis = el("div", { class: "kpis", dataset: { period: `${history.from}..${history.to}` } },
      ...COLUMNS.map(([key, value]) => el("div", { class: "kpi", dataset: { kpi: key } },
        el("span", {}, t(`sv.col.${key}`)), el("strong", {}, String(value(total) ?? 0)))),
      el("div", { class: "kpi", dataset: { kpi: "digital" } }, el("span", {}, t("sv.digital.share_goal", { goal: Math.round(digital.goal * 100) })),
        el("strong", { class: digital.meets_goal === false ? "bad" : "" }, share(digital.share_online))));
    const days = history.days.map((d) => ({ x: new Date(`${d.day}T12:00:00`).getTime(), a: d.visits, b: Math.round((d.wait_p90_seconds || 0) / 60) }));
    const chart = el("div", { class: "row", style: "align-items: flex-start" },
      el("div", { class: "grow", style: "min-width: 420px; flex: 3" }, lineChart({
        points: days, labelA: t("sv.col.visits"), labelB: `${t("sv.col.p90")}, ${t("common.min", { n: "" }).trim()}`,
        threshold: history.sla_max_wait_minutes, xLabel: (x) => new Date(x).toISOString().slice(5, 10), title: t("sv.history"),
      })),
      el("div", { style: "min-width: 260px; flex: 1" }, barChart({
        bars: [1, 2, 3, 4, 5].map((n) => ({ label: `${n}★`, value: Number(total.rating_distribution[String(n)] || 0), bad: n <= 2 })),
        title: t("sv.kpi.ratings"),
      })));
    const periods = [...history.weeks.map((w) => [`${t("sv.week")} ${w.period} (${w.from} — ${w.to})`, w, w.period]),
      ...history.months.map((m) => [`${t("sv.month")} ${m.period}`, m, m.period])];
    $("history-body").replaceChildren(kpis, chart,
      el("h3", {}, t("sv.by_service")), table("services", t("common.service"), history.services.map((s) => [title(s.service_id), s, s.service_id])),
      el("h3", {}, t("sv.by_operator")), table("operators", t("sv.operator"), history.operators.map((o) => [names.get(o.operator_ref) || o.operator_ref, o, o.operator_ref])),
      el("h3", {}, t("sv.by_period")), table("periods", t("sv.period"), periods),
      el("h3", {}, t("sv.digital")), shareTable(digital, title));
    form.dataset.shown = `${history.from}..${history.to}`;
  }

  async function show() {
    clearErrors(form);
    const { from, to } = period();
    const query = { from, to };
    const [history, digital] = await Promise.all([
      api("feedback", `${office()}/history`, { token: token(), query }),
      api("feedback", `${office()}/digital-share`, { token: token(), query }),
    ]);
    render(history, digital);
  }

  async function download() {
    const { from, to } = period();
    const response = await fetch(`/api/feedback${office()}/kpis.csv?from=${from}&to=${to}`, {
      headers: { Authorization: `Bearer ${token()}` }, cache: "no-store",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw { reason: body.reason || body.detail || response.statusText, fields: [] };
    }
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `kpis-${officeId()}-${from}-${to}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function pickRange(kind) {
    const [from, to] = rangeOf(kind);
    form.elements.from.value = from;
    form.elements.to.value = to;
    return show();
  }

  if (form.dataset.wired) return loadNames();
  form.dataset.wired = "1";
  for (const button of form.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => guarded(button, () => pickRange(button.dataset.range)).catch((e) => showErrors(form, e)));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(form.querySelector("[type=submit]"), show).catch((e) => showErrors(form, e));
  });
  $("history-csv").addEventListener("click", (event) =>
    guarded(event.currentTarget, download).catch((e) => showErrors(form, e)));
  const [from, to] = rangeOf("last-week");
  form.elements.from.value ||= from;
  form.elements.to.value ||= to;
  return loadNames();
}
