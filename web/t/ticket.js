// The mobile ticket (/t/{token}): number, state, place and estimate, kept live by polling; a big
// "go to window N" when called; cancel.

import { api, ApiError } from "/assets/api.js";
import { initI18n, lang, onLangChange, t } from "/assets/i18n.js";
import { checklistSection } from "/assets/checklist-tools.js";
import { clock, guarded, tokenFromPath } from "/assets/ui.js";
import { nearbyOffices, renderNearby } from "/assets/nearby.js";

const POLL_MS = 3000;
const FINAL = new Set(["done", "cancelled", "no_show"]);
const token = tokenFromPath();
const $ = (id) => document.getElementById(id);
let status = null;
let serviceTitle = "";
let timer = null;
let calledBefore = 0;
let nearbyCheckedAt = 0;

// While waiting, a faster office nearby is looked up now and then; the citizen may move there.
async function checkNearby() {
  if (!status || status.state !== "waiting" || !status.office_id || Date.now() - nearbyCheckedAt < 30000) return;
  nearbyCheckedAt = Date.now();
  renderNearby($("nearby"), await nearbyOffices(status.office_id, status.service_id), moveTo);
}

async function moveTo(office, button) {
  try {
    await guarded(button, async (idempotencyKey) => {
      const ticket = await api("ticketing", "/tickets", { method: "POST", idempotencyKey, body: {
        office_id: office.office_id, service_id: status.service_id, language: lang(), channel: "web",
      } });
      // The new ticket is taken: this one is given up, so nobody waits for it here.
      await api("ticketing", `/tickets/by-token/${encodeURIComponent(token)}/cancel`, { method: "POST" }).catch(() => {});
      location.assign(`${new URL(ticket.link, location.origin).pathname}?lang=${lang()}`);
    });
  } catch (error) {
    $("error").textContent = error.reason || String(error);
    $("error").hidden = false;
  }
}

function render() {
  if (!status) return;
  $("ticket").hidden = false;
  $("number").textContent = status.number;
  $("service").textContent = serviceTitle;
  document.body.dataset.state = status.state;
  const atWindow = status.state === "called" || status.state === "serving";
  $("go").hidden = !atWindow;
  if (status.state === "called") $("go").textContent = t("t.go", { n: status.window_no });
  if (status.state === "serving") $("go").textContent = t("t.serving", { n: status.window_no });
  $("facts").hidden = status.state !== "waiting";
  $("position").textContent = status.position != null ? String(status.position) : "—";
  $("estimate").textContent = status.estimated_wait_minutes != null ? t("common.about_min", { n: status.estimated_wait_minutes }) : "—";
  const line = {
    waiting: status.position != null ? t("t.ahead", { n: Math.max(0, status.position - 1) }) : t("state.waiting"),
    done: t("t.done"), cancelled: t("t.cancelled"), no_show: t("t.no_show"),
  }[status.state];
  $("state").textContent = line || "";
  $("cancel").hidden = FINAL.has(status.state) || atWindow;
  // After the visit: rate it (the same link the ticket's printed QR carries).
  $("rate").hidden = status.state !== "done";
  $("rate").href = `/r/${encodeURIComponent(token)}?lang=${lang()}`;
  $("updated").textContent = t("t.updated", { time: clock(new Date()) });
}

async function loadTitle() {
  if (!status) return;
  const service = await api("catalog", `/services/${encodeURIComponent(status.service_id)}`, { query: { lang: lang() } });
  serviceTitle = service.title;
  if (status.office_id) {
    $("docs-body").replaceChildren(await checklistSection(status.office_id, status.service_id));
    $("docs").hidden = false;
  }
}

async function poll() {
  clearTimeout(timer);
  try {
    const next = await api("ticketing", `/tickets/by-token/${encodeURIComponent(token)}`);
    const serviceChanged = next.service_id !== status?.service_id;
    status = next;
    $("error").hidden = true;
    if (serviceChanged) await loadTitle().catch(() => {});
    if (status.state === "called" && status.calls > calledBefore) {
      calledBefore = status.calls;
      navigator.vibrate?.([300, 150, 300]);
    }
    render();
    if (status.state !== "waiting") $("nearby").hidden = true;
    checkNearby().catch(() => {});
  } catch (error) {
    if (error instanceof ApiError && !error.offline) {
      $("error").textContent = error.reason;
      $("error").hidden = false;
      if (error.status === 404) return;
    }
  }
  if (!status || !FINAL.has(status.state)) timer = setTimeout(poll, POLL_MS);
}

$("cancel").addEventListener("click", async () => {
  if (!confirm(t("t.cancel.confirm"))) return;
  try {
    await guarded($("cancel"), async () => {
      status = await api("ticketing", `/tickets/by-token/${encodeURIComponent(token)}/cancel`, { method: "POST" });
      render();
    });
  } catch (error) {
    $("error").textContent = error.reason || String(error);
    $("error").hidden = false;
  }
});

initI18n("ticket");
onLangChange(() => loadTitle().then(render).catch(render));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && (!status || !FINAL.has(status.state))) poll();
});
addEventListener("ow:reconnected", () => poll());
if (!token) {
  $("error").textContent = "?";
  $("error").hidden = false;
} else {
  poll();
}
