// The printed ticket (kiosk, reception): number, service, place and estimate, a QR code to the mobile
// ticket and one to the rating page (the ticket's own token opens it once the visit is over).

import { lang, t } from "./i18n.js";
import { qrSvg } from "./qr.js";
import { clock } from "./ui.js";

/** Links of a ticket, in the screen's language: [mobile ticket, rating page]. */
export function ticketLinks(ticket) {
  const mobile = new URL(ticket.link, location.origin);
  mobile.searchParams.set("lang", lang());
  const rate = new URL(`/r/${encodeURIComponent(ticket.citizen_token)}`, location.origin);
  rate.searchParams.set("lang", lang());
  return [mobile.href, rate.href];
}

/** Fills the slip under `root` (elements #slip-office, #slip-number, ... as in kiosk/index.html). */
export function renderSlip(root, ticket, { officeName = "", serviceTitle = "", timeZone = "Europe/Moscow" } = {}) {
  const part = (id) => root.querySelector(`#${id}`);
  const [mobile, rate] = ticketLinks(ticket);
  part("slip-office").textContent = officeName;
  part("slip-number").textContent = ticket.number;
  part("slip-service").textContent = serviceTitle;
  part("slip-position").textContent = t("kiosk.ticket.position", { n: Math.max(0, ticket.position - 1) });
  part("slip-estimate").textContent = t("kiosk.ticket.estimate", { n: ticket.estimated_wait_minutes });
  part("slip-time")?.replaceChildren(clock(new Date(ticket.issued_at), timeZone));
  part("slip-qr").replaceChildren(qrSvg(mobile, t("kiosk.ticket.qr")));
  part("slip-rate-qr").replaceChildren(qrSvg(rate, t("kiosk.ticket.rate")));
  part("ticket-slip").dataset.link = mobile;
  part("ticket-slip").dataset.rateLink = rate;
}
