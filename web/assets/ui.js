// Small pieces every screen uses: building elements, the double-tap guard, errors next to fields and
// the office a screen works for (staff sign-in: signin.js).

import { api, ApiError, newIdempotencyKey } from "./api.js";
import { t } from "./i18n.js";

/** el("button", {class: "x", onclick}, "text", child) -> element. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Runs `action(idempotencyKey)` for a tap on `button` once at a time: the button is disabled while the
 * request is in flight, and a retry of the same intent (after the connection failed, so the first
 * attempt may have been done) reuses the same key: the service answers it with what the first
 * attempt created. Any answered request ends the intent (the form may change before the next tap).
 */
export async function guarded(button, action) {
  if (!button || button.dataset.busy === "1") return undefined;
  button.dataset.busy = "1";
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.dataset.idempotencyKey ||= newIdempotencyKey();
  try {
    const result = await action(button.dataset.idempotencyKey);
    delete button.dataset.idempotencyKey; // done: the next tap is a new intent
    return result;
  } catch (error) {
    if (!(error instanceof ApiError && error.offline)) delete button.dataset.idempotencyKey;
    throw error;
  } finally {
    delete button.dataset.busy;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Forgets the pending intent of `button` (e.g. the form changed, so a retry is a new request). */
export function newIntent(button) {
  if (button) delete button.dataset.idempotencyKey;
}

export function clearErrors(root) {
  for (const node of root.querySelectorAll(".field-error")) node.remove();
  for (const node of root.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    const ids = (node.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("err-"));
    if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
    else node.removeAttribute("aria-describedby");
  }
  for (const node of root.querySelectorAll(".form-error")) {
    node.textContent = "";
    node.hidden = true;
  }
}

let errorSeq = 0;

function fieldControl(root, field) {
  const parts = String(field || "").split(".").filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i -= 1) {
    const name = parts[i];
    if (/^\d+$/.test(name)) continue;
    const control = root.querySelector(`[name="${CSS.escape(name)}"], [data-field="${CSS.escape(name)}"]`);
    if (control) return control;
  }
  return null;
}

function markField(control, message) {
  const id = `err-${++errorSeq}`;
  const note = el("p", { class: "field-error", id, role: "alert" }, message);
  const anchor = control.closest(".field") || control;
  anchor.append(note);
  control.setAttribute("aria-invalid", "true");
  const describedBy = control.getAttribute("aria-describedby");
  control.setAttribute("aria-describedby", describedBy ? `${describedBy} ${id}` : id);
}

/**
 * Shows an ApiError in `root`: each field's message next to its control (matched by name), the
 * reason in the form's .form-error (role=alert). A reason that names a field also goes next to it.
 */
export function showErrors(root, error) {
  clearErrors(root);
  const reason = error instanceof ApiError || error?.reason ? error.reason : String(error?.message || error);
  let first = null;
  for (const item of error?.fields || []) {
    const control = fieldControl(root, item.field);
    if (!control) continue;
    markField(control, item.message || reason);
    first ||= control;
  }
  if (!first && error?.body?.field) {
    const control = fieldControl(root, error.body.field);
    if (control) {
      markField(control, reason);
      first = control;
    }
  }
  const summary = root.querySelector(".form-error");
  if (summary) {
    summary.textContent = reason;
    summary.hidden = false;
  }
  (first || summary)?.focus?.();
}

/** Shows `screen` (a section id) and hides its siblings with class .screen; moves focus to its heading. */
export function showScreen(id) {
  for (const section of document.querySelectorAll(".screen")) section.hidden = section.id !== id;
  const target = document.getElementById(id);
  const heading = target?.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

export function minutes(value) {
  return t("common.about_min", { n: Math.max(0, Math.round(Number(value) || 0)) });
}

export function clock(date = new Date(), timeZone = "Europe/Moscow") {
  return new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit", timeZone }).format(date);
}

// ------------------------------------------------------------------ the office of a screen

/** The office this screen serves: ?office=, else the one remembered, else the first listed. */
export async function chooseOffice(screen) {
  const asked = new URLSearchParams(location.search).get("office");
  if (asked) {
    localStorage.setItem(`ow.office.${screen}`, asked);
    return asked;
  }
  const remembered = localStorage.getItem(`ow.office.${screen}`);
  if (remembered) return remembered;
  const offices = await api("catalog", "/offices");
  const list = Array.isArray(offices) ? offices : offices?.offices || offices?.items || [];
  return list[0]?.office_id || null;
}

/** The token in a citizen link: the last path segment (/t/{token}, /feedback/{token}) or ?token=. */
export function tokenFromPath() {
  const asked = new URLSearchParams(location.search).get("token");
  if (asked) return asked;
  const parts = location.pathname.split("/").filter(Boolean);
  const last = parts[parts.length - 1] || "";
  return /^[A-Za-z0-9_-]{16,}$/.test(last) ? last : null;
}
