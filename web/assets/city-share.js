// The city's digital share across offices (feedback GET /city/digital-share): the city's share
// against its goal, a table per office and one per service, for a period. Shown on the supervisor's
// dashboard and on the administration screen (a city-wide admin has no office of their own).

import { api } from "/assets/api.js";
import { pick, t } from "/assets/i18n.js";
import { clearErrors, el, guarded, showErrors } from "/assets/ui.js";

const share = (value) => (value == null ? "—" : `${Math.round(value * 100)}%`);

/** The last full calendar month before today, as YYYY-MM-DD. */
function lastMonth(today = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return [iso(new Date(today.getFullYear(), today.getMonth() - 1, 1)), iso(new Date(today.getFullYear(), today.getMonth(), 0))];
}

function cell(text, bad = false) {
  return el("td", { class: `num ${bad ? "bad" : ""}` }, String(text));
}

function officeTable(city) {
  return el("table", { class: "history-table", dataset: { table: "city-offices" } },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("common.office")),
      ...["sv.digital.online", "sv.digital.in_office", "sv.digital.share", "city.below"].map((key) =>
        el("th", { scope: "col", class: "num" }, t(key))))),
    el("tbody", {}, ...city.offices.map((row) => el("tr", { dataset: { key: row.office_id } },
      el("th", { scope: "row" }, row.name ? pick(row.name) : row.office_id),
      cell(row.online), cell(row.in_office), cell(share(row.share_online), row.meets_goal === false),
      cell(row.services_below_goal, row.services_below_goal > 0)))));
}

function serviceTable(city) {
  const rows = city.services.filter((row) => row.online || row.in_office || row.could_have_been_online);
  return el("table", { class: "history-table", dataset: { table: "city-services" } },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("common.service")),
      ...["city.offices", "sv.digital.online", "sv.digital.in_office", "sv.digital.share", "sv.digital.could", "sv.digital.sent"]
        .map((key) => el("th", { scope: "col", class: "num" }, t(key))))),
    el("tbody", {}, ...rows.map((row) => el("tr", { dataset: { key: row.service_id } },
      el("th", { scope: "row" }, row.title ? pick(row.title) : row.service_id),
      cell(row.offices), cell(row.online), cell(row.in_office),
      cell(row.has_online_alternative ? share(row.share_online) : "—", row.meets_goal === false),
      cell(row.could_have_been_online), cell(row.sent_online)))));
}

function render(body, city) {
  const summary = el("p", { class: `city-summary ${city.meets_goal === false ? "bad" : ""}`, dataset: { share: String(city.share_online) } },
    t("city.summary", { share: share(city.share_online), goal: Math.round(city.goal * 100), online: city.online, in_office: city.in_office }));
  body.replaceChildren(summary, el("h3", {}, t("city.by_office")), officeTable(city),
    el("h3", {}, t("city.by_service")), serviceTable(city));
}

/** Draws the city's section into the page's empty `section` (title, a period form, the figures). */
function draw(section) {
  const field = (name, label) => el("div", { class: "field" },
    el("label", { for: `city-${name}`, "data-i18n": label }, t(label)), el("input", { id: `city-${name}`, name, type: "date", required: true }));
  const form = el("form", { id: "city-form", class: "row", novalidate: true },
    field("from", "sv.from"), field("to", "sv.to"), el("button", { type: "submit", "data-i18n": "sv.show" }, t("sv.show")),
    el("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true }));
  const body = el("div", { id: "city-body", "aria-live": "polite" });
  section.replaceChildren(el("h2", { id: "city-title", "data-i18n": "city.title" }, t("city.title")), form, body);
  return { form, body };
}

/** Wires the city's section (the last full month to begin with); `token()` is the staff token. */
export function wireCityShare({ section, token }) {
  if (section.dataset.wired) return;
  section.dataset.wired = "1";
  const { form, body } = draw(section);
  async function show() {
    clearErrors(form);
    const data = new FormData(form);
    const query = { from: String(data.get("from") || ""), to: String(data.get("to") || "") };
    render(body, await api("feedback", "/city/digital-share", { token: token(), query }));
    form.dataset.shown = `${query.from}..${query.to}`;
  }
  const [from, to] = lastMonth();
  form.elements.from.value ||= from;
  form.elements.to.value ||= to;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(form.querySelector("[type=submit]"), show).catch((e) => showErrors(form, e));
  });
}
