// Nearby offices: when the wait here is over the office's target, another office offering the same
// service that is meaningfully faster, travel included (the notifier works it out from every office's
// queue). Shown on the kiosk's ticket and on the mobile ticket, where the citizen can take a ticket there.

import { api } from "./api.js";
import { pick, t } from "./i18n.js";
import { el } from "./ui.js";

/** The suggestions for a service at an office ({here, offices}); none when the notifier has none. */
export async function nearbyOffices(officeId, serviceId) {
  try {
    return await api("notifier", `/offices/${encodeURIComponent(officeId)}/nearby`, { query: { service_id: serviceId } });
  } catch {
    return { here: null, offices: [] };
  }
}

/** Fills `box` with the best suggestion (hidden when there is none); `onTake(office)` adds a button. */
export function renderNearby(box, result, onTake = null) {
  const best = result.offices[0];
  box.hidden = !best;
  if (!best) {
    box.replaceChildren();
    return;
  }
  const distance = best.distance_km != null ? t("nearby.km", { km: best.distance_km.toLocaleString() }) : "";
  box.dataset.officeId = best.office_id;
  box.replaceChildren(...[
    el("strong", {}, t("nearby.title")),
    el("p", { class: "nearby-line" }, t("nearby.line", { office: pick(best.name), distance, minutes: best.estimated_wait_minutes })),
    el("p", { class: "muted" }, [pick(best.address), t("nearby.saves", { n: best.saves_minutes })].filter(Boolean).join(" · ")),
    onTake ? el("button", { type: "button", class: "secondary", onclick: (event) => onTake(best, event.currentTarget) }, t("nearby.take")) : null,
  ].filter(Boolean));
}
