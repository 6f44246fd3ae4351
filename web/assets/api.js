// The one way pages talk to the services: /api/<service>/<path> on this origin, JSON in and out.
// Errors become ApiError {status, code, reason, fields}; a service's error code (`error` in the body)
// is shown on Russian and Tatar screens from the dictionary (`error.<code>`, `error.field.<name>`);
// English screens and unknown codes show the service's own reason. A lost connection raises the banner (connection.js).

import { connection } from "./connection.js";
import { has, lang, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, reason, fields = [], body = null) {
    super(reason);
    this.status = status;
    this.reason = reason;
    this.fields = fields;
    this.body = body;
    this.code = body && typeof body.error === "string" ? body.error : null;
  }

  get offline() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** A random key for one intent (a tap); reused if that same intent is retried. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function url(service, path, query) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const qs = search.toString();
  return `/api/${service}${path}${qs ? `?${qs}` : ""}`;
}

/** Values an error text may name: a closing time in the office's clock ({time}). */
function errorVars(body) {
  const vars = {};
  if (body.closes_at) {
    vars.time = new Intl.DateTimeFormat("ru-RU", { hour: "2-digit", minute: "2-digit", timeZone: body.timezone || "Europe/Moscow" })
      .format(new Date(body.closes_at));
  }
  return vars;
}

/** The screen's own text for a service's error code, or null (then the service's reason shows). */
export function translatedReason(code, body = {}) {
  // English screens show the service's own (English) reason.
  if (!code || lang() === "en" || !has(`error.${code}`)) return null;
  return t(`error.${code}`, errorVars(body));
}

function fieldName(field) {
  return String(field || "").split(".").filter((part) => !/^\d+$/.test(part)).pop() || "";
}

// FastAPI's own 422 ({detail: [{loc, msg}]}) and our {reason, fields} read the same way.
function errorFrom(status, body, statusText) {
  if (body && typeof body === "object") {
    let fields = Array.isArray(body.fields) ? body.fields : [];
    if (!fields.length && Array.isArray(body.detail)) {
      fields = body.detail.map((d) => ({ field: (d.loc || []).filter((p) => p !== "body").join("."), message: d.msg }));
    }
    // Field messages in the screen's language where the dictionary knows the field (English stays as sent).
    if (lang() !== "en") {
      fields = fields.map((f) => (has(`error.field.${fieldName(f.field)}`) ? { ...f, message: t(`error.field.${fieldName(f.field)}`) } : f));
    }
    const fieldsReason = body.error === "validation_error" && lang() !== "en" && fields.length
      ? fields.map((f) => f.message).join("; ") : null;
    const reason = translatedReason(body.error, body) || fieldsReason || body.reason || (typeof body.detail === "string" ? body.detail : null) ||
      (fields[0] && `${fields[0].field}: ${fields[0].message}`) || statusText;
    return new ApiError(status, reason, fields, body);
  }
  return new ApiError(status, statusText || `HTTP ${status}`);
}

/**
 * Calls a service. Options: method, body (JSON), token (staff bearer), idempotencyKey, query, signal.
 * Resolves with the parsed JSON (null for an empty body); rejects with ApiError.
 */
export async function api(service, path, options = {}) {
  const { method = "GET", body, token, idempotencyKey, query, signal } = options;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(url(service, path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    connection.lost(service);
    throw new ApiError(0, t("net.offline"));
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.status === 502 || response.status === 504 ||
      (response.status === 503 && parsed && /unavailable/i.test(parsed.reason || ""))) {
    connection.lost(service);
  } else {
    connection.ok(service);
  }
  if (!response.ok) throw errorFrom(response.status, parsed, response.statusText);
  return parsed;
}
