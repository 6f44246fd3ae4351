// Under every checklist a screen shows (kiosk, reception, booking page, mobile ticket): the link to the
// printable checklist page and "send it to my phone or e-mail" (the notifier sends it on request).

import { api } from "./api.js";
import { lang, t } from "./i18n.js";
import { clearErrors, el, guarded, showErrors } from "./ui.js";

/** The printable checklist page of a service, in the screen's language. */
export function printableChecklistUrl(serviceId) {
  return `/api/catalog/services/${encodeURIComponent(serviceId)}/checklist.html?lang=${lang()}`;
}

/**
 * A block with the printable link and the send form for `serviceId` in `officeId`. `token`: a staff
 * token when the screen has one (kiosk, reception). Returns the element; call again to redraw.
 */
export function checklistTools(officeId, serviceId, { token = null } = {}) {
  const contactId = `checklist-contact-${serviceId}`;
  const status = el("p", { class: "hint checklist-sent", role: "status", hidden: true });
  const button = el("button", { type: "submit", class: "secondary", dataset: { checklistSend: "1" } }, t("checklist.send.go"));
  const form = el("form", { class: "checklist-send", novalidate: true },
    el("div", { class: "field" },
      el("label", { for: contactId }, t("checklist.send")),
      el("input", { id: contactId, name: "contact", type: "text", inputmode: "email", autocomplete: "off", placeholder: t("checklist.contact.placeholder") })),
    button,
    el("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true }),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    status.hidden = true;
    const contact = String(new FormData(form).get("contact") || "").trim();
    if (!contact) {
      showErrors(form, { reason: t("error.field.contact"), fields: [{ field: "contact", message: t("error.field.contact") }] });
      return;
    }
    try {
      await guarded(button, async () => {
        const sent = await api("notifier", "/checklists/send", {
          method: "POST", token, body: { office_id: officeId, service_id: serviceId, contact, language: lang() },
        });
        status.textContent = t(sent.channel === "email" ? "checklist.sent.email" : "checklist.sent.sms");
        status.hidden = false;
        form.reset();
      });
    } catch (error) {
      showErrors(form, error);
    }
  });
  return el("div", { class: "checklist-tools" },
    el("a", { class: "button secondary print-link", href: printableChecklistUrl(serviceId), target: "_blank", rel: "noopener" },
      t("checklist.print")),
    form);
}

/** The documents to bring (fetched in the screen's language), the printable link and the send form. */
export async function checklistSection(officeId, serviceId, { token = null } = {}) {
  const checklist = await api("catalog", `/services/${encodeURIComponent(serviceId)}/checklist`, { query: { lang: lang() } });
  const items = checklist.items.map((item) => el("li", {}, el("strong", {}, item.title),
    item.notes ? el("div", { class: "meta" }, item.notes) : null));
  return el("div", { class: "checklist-section", dataset: { serviceId } },
    el("ul", { class: "checklist" }, ...(items.length ? items : [el("li", {}, t("kiosk.checklist.empty"))])),
    checklistTools(officeId, serviceId, { token }));
}
