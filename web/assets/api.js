// The one way pages talk to the services: /api/<service>/<path> on this origin, JSON in and out.
// Errors become ApiError {status, reason, fields}; a lost connection raises the banner (connection.js).

import { connection } from "./connection.js";
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, reason, fields = [], body = null) {
    super(reason);
    this.status = status;
    this.reason = reason;
    this.fields = fields;
    this.body = body;
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

// FastAPI's own 422 ({detail: [{loc, msg}]}) and our {reason, fields} read the same way.
function errorFrom(status, body, statusText) {
  if (body && typeof body === "object") {
    let fields = Array.isArray(body.fields) ? body.fields : [];
    if (!fields.length && Array.isArray(body.detail)) {
      fields = body.detail.map((d) => ({ field: (d.loc || []).filter((p) => p !== "body").join("."), message: d.msg }));
    }
    const reason = body.reason || (typeof body.detail === "string" ? body.detail : null) ||
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
