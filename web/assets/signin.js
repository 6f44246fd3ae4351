// Staff sign-in: the session a staff screen keeps per scope, and the one sign-in form of every staff
// screen (operator console, reception desk, supervisor dashboard, administration). A page keeps an empty
// <section id="signin"> where the form belongs (its classes place it); staffSignIn() draws and wires it.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { clearErrors, el, guarded, showErrors } from "./ui.js";

const SESSION_KEY = "ow.staff";

export function staffSession(scope) {
  try {
    const stored = JSON.parse(sessionStorage.getItem(`${SESSION_KEY}.${scope}`) || "null");
    if (!stored?.access_token) return null;
    // A token past its expiry is of no use: sign in again rather than fail on the first call.
    const payload = JSON.parse(atob(stored.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (payload.exp && payload.exp * 1000 < Date.now()) return null;
    return stored;
  } catch {
    return null;
  }
}

export function forgetStaff(scope) {
  sessionStorage.removeItem(`${SESSION_KEY}.${scope}`);
}

/** Signs in through the catalog; resolves with {access_token, role, office_id, username}. */
export async function signIn(scope, username, password) {
  const result = await api("catalog", "/auth/token", { method: "POST", body: { username, password } });
  const session = { ...result, username };
  sessionStorage.setItem(`${SESSION_KEY}.${scope}`, JSON.stringify(session));
  return session;
}

function field(key, attrs) {
  const id = `signin-${attrs.name}`;
  return el(
    "div", { class: "field" },
    el("label", { for: id, "data-i18n": key, text: t(key) }),
    el("input", { id, required: true, ...attrs }),
  );
}

/**
 * Draws the sign-in form (id `signin-form`, fields username and password) into `section`; on submit it
 * signs in for `scope` and calls onSignedIn(session), or shows the refusal in the form. Returns the form.
 */
export function staffSignIn(scope, onSignedIn, section = document.getElementById("signin")) {
  const form = el(
    "form", { id: "signin-form", class: "stack", novalidate: true },
    field("signin.username", { name: "username", autocomplete: "username" }),
    field("signin.password", { name: "password", type: "password", autocomplete: "current-password" }),
    el("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true }),
    el("button", { type: "submit", "data-i18n": "signin.submit", text: t("signin.submit") }),
  );
  section.setAttribute("aria-labelledby", "signin-title");
  section.replaceChildren(el("h2", { id: "signin-title", "data-i18n": "signin.title", text: t("signin.title") }), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await guarded(form.querySelector("[type=submit]"), async () => {
        const data = new FormData(form);
        const session = await signIn(scope, String(data.get("username")).trim(), String(data.get("password")));
        form.reset();
        onSignedIn(session);
      });
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}
