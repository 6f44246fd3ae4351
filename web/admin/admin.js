// Administration (served on the internal listener only, beside the admin API): the office's staff
// (create, disable, enable, reset a password), its settings (wait targets, hours and breaks, alert
// recipients; the ticket cut-off shown), and the audit log of every such change, with filters.

import { api, ApiError } from "/assets/api.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { forgetStaff, staffSession, staffSignIn } from "/assets/signin.js";
import { clearErrors, el, guarded, showErrors } from "/assets/ui.js";
import { wireCityShare } from "/assets/city-share.js";

const SCOPE = "admin";
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const $ = (id) => document.getElementById(id);
const state = { session: null, officeId: null, office: null };

function admin(path, options = {}) {
  return api("catalog", `/admin${path}`, { ...options, token: state.session.access_token });
}

const officePath = () => `/offices/${encodeURIComponent(state.officeId)}`;

// ------------------------------------------------------------------ staff

async function loadStaff() {
  const people = await admin("/staff", { query: { office_id: state.officeId } });
  $("staff-rows").replaceChildren(...people.map((person) => {
    const toggle = el("button", { type: "button", class: "secondary",
      onclick: (event) => act(event.currentTarget, `/staff/${encodeURIComponent(person.username)}/${person.disabled ? "enable" : "disable"}`) },
    t(person.disabled ? "ad.enable" : "ad.disable"));
    const reset = el("button", { type: "button", class: "secondary",
      onclick: (event) => resetPassword(event.currentTarget, person.username) }, t("ad.reset"));
    return el("tr", { dataset: { username: person.username, disabled: String(person.disabled) } },
      el("th", { scope: "row" }, person.username),
      el("td", {}, t(`ad.role.${person.role}`)),
      el("td", {}, el("span", { class: `badge ${person.disabled ? "warn" : "ok"}` }, t(person.disabled ? "ad.disabled" : "ad.active"))),
      el("td", { class: "row" }, toggle, reset));
  }));
}

async function act(button, path) {
  await guarded(button, () => admin(path, { method: "POST" })).catch((error) => alertError(error));
  await Promise.all([loadStaff(), auditSoon()]);
}

async function resetPassword(button, username) {
  const result = await guarded(button, () => admin(`/staff/${encodeURIComponent(username)}/reset-password`, { method: "POST" }))
    .catch((error) => alertError(error));
  if (result) {
    $("new-password").hidden = false;
    $("new-password").textContent = t("ad.new_password", { user: username, password: result.password });
  }
  await auditSoon();
}

function alertError(error) {
  $("new-password").hidden = false;
  $("new-password").textContent = error.reason || String(error);
}

function wireStaffForm() {
  const form = $("staff-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    try {
      await guarded(form.querySelector("[type=submit]"), () => admin("/staff", { method: "POST", body: {
        username: String(data.get("username")).trim(), password: String(data.get("password")),
        role: String(data.get("role")), office_id: state.officeId,
      } }));
      form.reset();
      await Promise.all([loadStaff(), auditSoon()]);
    } catch (error) {
      showErrors(form, error);
    }
  });
}

// ------------------------------------------------------------------ office settings

function breaksText(day) {
  return (day.breaks || []).map((b) => `${b.start}-${b.end}`).join(", ");
}

function renderSettings() {
  const office = state.office.configuration;
  const form = $("settings-form");
  form.elements.max_wait_minutes.value = office.sla.max_wait_minutes;
  form.elements.appointment_max_wait_minutes.value = office.sla.appointment_max_wait_minutes;
  const byDay = new Map(office.hours.map((day) => [day.weekday, day]));
  $("hours").replaceChildren(...DAYS.map((name, weekday) => {
    const day = byDay.get(weekday);
    return el("div", { class: "row hours-row", dataset: { weekday } },
      el("span", { class: "day" }, t(`ad.day.${name}`)),
      el("label", { class: "visually-hidden", for: `open-${weekday}` }, t("ad.opens")),
      el("input", { id: `open-${weekday}`, name: `open-${weekday}`, value: day?.open || "", placeholder: "08:00", size: 5 }),
      "–",
      el("label", { class: "visually-hidden", for: `close-${weekday}` }, t("ad.closes")),
      el("input", { id: `close-${weekday}`, name: `close-${weekday}`, value: day?.close || "", placeholder: "20:00", size: 5 }),
      el("label", { for: `breaks-${weekday}` }, t("ad.breaks")),
      el("input", { id: `breaks-${weekday}`, name: `breaks-${weekday}`, value: day ? breaksText(day) : "", placeholder: "13:00-14:00", size: 14 }));
  }));
  $("cutoff").textContent = String(office.issue_cutoff_minutes ?? 0);
  renderWindowSchedules();
  $("windows").textContent = office.zones.map((zone) => `${pick(zone.name)}: ${t("ad.windows")} ${zone.windows.join(", ") || "—"}`).join(" · ");
}

// Windows with their own hours: one row per window, the same hours and breaks on the days ticked.
function renderWindowSchedules() {
  const office = state.office.configuration;
  const numbers = office.zones.flatMap((zone) => zone.windows).sort((a, b) => a - b);
  const schedules = new Map((office.window_schedules || []).map((s) => [s.window_no, s]));
  $("window-schedules").replaceChildren(...numbers.map((n) => {
    const schedule = schedules.get(n);
    const first = schedule?.days[0];
    const on = new Set((schedule?.days || []).map((d) => d.weekday));
    return el("div", { class: "row window-row", dataset: { window: n } },
      el("span", { class: "window-name" }, t("ad.window_n", { n })),
      el("label", { for: `ws-on-${n}` },
        el("input", { id: `ws-on-${n}`, name: `ws-on-${n}`, type: "checkbox", checked: Boolean(schedule) }), " ", t("ad.own_schedule")),
      el("span", { class: "weekdays" }, ...DAYS.map((name, weekday) => el("label", { for: `ws-${n}-${weekday}` },
        el("input", { id: `ws-${n}-${weekday}`, name: `ws-${n}-${weekday}`, type: "checkbox", checked: schedule ? on.has(weekday) : weekday < 5 }),
        t(`ad.day.${name}`)))),
      el("label", { class: "visually-hidden", for: `ws-open-${n}` }, `${t("ad.window_n", { n })}: ${t("ad.opens")}`),
      el("input", { id: `ws-open-${n}`, name: `ws-open-${n}`, value: first?.open || "", placeholder: "09:00", size: 5 }),
      "–",
      el("label", { class: "visually-hidden", for: `ws-close-${n}` }, `${t("ad.window_n", { n })}: ${t("ad.closes")}`),
      el("input", { id: `ws-close-${n}`, name: `ws-close-${n}`, value: first?.close || "", placeholder: "18:00", size: 5 }),
      el("label", { for: `ws-breaks-${n}` }, t("ad.breaks")),
      el("input", { id: `ws-breaks-${n}`, name: `ws-breaks-${n}`, value: first ? breaksText(first) : "", placeholder: "13:00-14:00", size: 14 }));
  }));
}

function breaksFrom(text) {
  return String(text).split(",").map((s) => s.trim()).filter(Boolean)
    .map((range) => { const [start, end] = range.split("-").map((s) => s.trim()); return { start, end }; });
}

function windowSchedulesFromForm(form) {
  return [...form.querySelectorAll(".window-row")].filter((row) => form.elements[`ws-on-${row.dataset.window}`].checked)
    .map((row) => {
      const n = Number(row.dataset.window);
      const open = String(form.elements[`ws-open-${n}`].value).trim();
      const close = String(form.elements[`ws-close-${n}`].value).trim();
      const breaks = breaksFrom(form.elements[`ws-breaks-${n}`].value);
      const days = DAYS.map((_, weekday) => weekday).filter((weekday) => form.elements[`ws-${n}-${weekday}`].checked)
        .map((weekday) => ({ weekday, open, close, breaks }));
      return { window_no: n, days };
    });
}

// The office as the catalog takes it back (PUT): the current configuration with `changes`.
function officeBody(changes) {
  const { office_id: _id, version, retired: _retired, ...spec } = state.office.configuration;
  return { ...spec, version, ...changes };
}

function hoursFromForm(form) {
  const hours = [];
  for (let weekday = 0; weekday < 7; weekday += 1) {
    const open = String(form.elements[`open-${weekday}`].value).trim();
    const close = String(form.elements[`close-${weekday}`].value).trim();
    if (!open && !close) continue;
    const breaks = breaksFrom(form.elements[`breaks-${weekday}`].value);
    hours.push({ weekday, open, close, breaks });
  }
  return hours;
}

function wireSettingsForm() {
  const form = $("settings-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const office = state.office.configuration;
    const body = officeBody({
      sla: { ...office.sla, max_wait_minutes: Number(form.elements.max_wait_minutes.value),
        appointment_max_wait_minutes: Number(form.elements.appointment_max_wait_minutes.value) },
      hours: hoursFromForm(form),
    });
    try {
      await guarded(form.querySelector("[type=submit]"), () => admin(officePath(), { method: "PUT", body }));
      await Promise.all([loadOffice(), auditSoon()]);
      form.dataset.saved = String(Date.now());
    } catch (error) {
      showErrors(form, error);
    }
  });
  const windows = $("windows-form");
  windows.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(windows);
    const body = officeBody({ window_schedules: windowSchedulesFromForm(windows) });
    try {
      await guarded(windows.querySelector("[type=submit]"), () => admin(officePath(), { method: "PUT", body }));
      await Promise.all([loadOffice(), auditSoon()]);
      windows.dataset.saved = String(Date.now());
    } catch (error) {
      showErrors(windows, error);
    }
  });
  const recipients = $("recipients-form");
  recipients.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(recipients);
    const list = String(recipients.elements.recipients.value).split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
    try {
      const saved = await guarded(recipients.querySelector("[type=submit]"), () =>
        admin(`${officePath()}/alert-recipients`, { method: "PUT", body: { recipients: list } }));
      recipients.elements.recipients.value = saved.recipients.join("\n");
      recipients.dataset.saved = String(Date.now());
      await auditSoon();
    } catch (error) {
      showErrors(recipients, error);
    }
  });
}

async function loadOffice() {
  state.office = await api("catalog", officePath(), { query: { lang: lang() } });
  renderSettings();
  const recipients = await admin(`${officePath()}/alert-recipients`);
  $("recipients").value = recipients.recipients.join("\n");
}

// ------------------------------------------------------------------ audit

function shown(value) {
  const text = JSON.stringify(value);
  return text === "{}" ? "—" : text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

async function loadAudit() {
  const data = new FormData($("audit-form"));
  const from = String(data.get("from") || "");
  const entries = await admin("/audit", { query: {
    office_id: state.officeId, action: data.get("action"), actor: data.get("actor"), target_id: data.get("target_id"),
    from: from ? `${from}T00:00:00Z` : "",
  } });
  $("audit-rows").replaceChildren(...entries.map((entry) => el("tr", { dataset: { action: entry.action, target: entry.target_id } },
    el("td", {}, new Date(entry.at).toLocaleString(lang())), el("td", {}, entry.actor),
    el("td", {}, entry.action), el("td", {}, entry.target_id),
    el("td", { class: "mono" }, shown(entry.before)), el("td", { class: "mono" }, shown(entry.after)))));
}

// The log is built from the audit stream (each entry leaves with its change, in one write): a
// change shows up a moment later, so the table is read again a few times after one.
let auditTimers = [];
async function auditSoon() {
  for (const timer of auditTimers) clearTimeout(timer);
  auditTimers = [800, 2000, 4500].map((ms) => setTimeout(() => loadAudit().catch(() => {}), ms));
  await loadAudit();
}

// ------------------------------------------------------------------ sign-in and office

async function pickOffice() {
  const offices = await api("catalog", "/offices", { query: { lang: lang() } });
  const mine = state.session.office_id;
  const list = mine ? offices.filter((o) => o.office_id === mine) : offices;
  const asked = new URLSearchParams(location.search).get("office");
  state.officeId = mine || (list.some((o) => o.office_id === asked) ? asked : list[0]?.office_id);
  $("office-pick").replaceChildren(...list.map((o) => el("option", { value: o.office_id, selected: o.office_id === state.officeId }, pick(o.name))));
  $("office-pick").disabled = Boolean(mine);
}

async function showOffice() {
  await Promise.all([loadStaff(), loadOffice(), loadAudit()]);
}

function showScreens(visible) {
  $("signin").hidden = visible;
  for (const card of document.querySelectorAll(".dash")) card.hidden = !visible;
  $("signout").hidden = !visible;
}

async function begin(session) {
  if (session.role !== "admin") {
    forgetStaff(SCOPE);
    throw new ApiError(403, t("ad.only_admins"));
  }
  state.session = session;
  $("who").textContent = session.username;
  await pickOffice();
  showScreens(true);
  wireCityShare({ section: $("city"), token: () => state.session.access_token });
  await showOffice();
}

function signOut() {
  forgetStaff(SCOPE);
  state.session = null;
  $("who").textContent = "";
  showScreens(false);
}

initI18n("admin");
staffSignIn(SCOPE, (session) => begin(session).catch((e) => { showScreens(false); showErrors($("signin-form"), e); }));
wireStaffForm();
wireSettingsForm();
$("audit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(event.submitter || $("audit-form").querySelector("[type=submit]"), loadAudit).catch((e) => showErrors($("audit-form"), e));
});
$("office-pick").addEventListener("change", (event) => {
  state.officeId = event.target.value;
  showOffice().catch(() => {});
});
$("signout").addEventListener("click", signOut);
onLangChange(() => state.session && showOffice().catch(() => {}));
const existing = staffSession(SCOPE);
if (existing) begin(existing).catch(() => signOut());
else showScreens(false);
