// The rating screen at a window: a tablet facing the citizen, paired once with the window (signed in
// with the window's operator account or the office's kiosk account). When a visit at this window is
// completed it asks for a 1-5 rating; each visit is rated once (here, from the ticket or by SMS link).

import { api, ApiError } from "/assets/api.js";
import { initI18n, onLangChange, pick, t } from "/assets/i18n.js";
import { signIn, staffSession } from "/assets/signin.js";
import { el, guarded, showErrors, showScreen } from "/assets/ui.js";

const SCOPE = "rate";
const WINDOW_KEY = "ow.rate.window";
const POLL_MS = 3000;
const THANKS_MS = 6000;
const $ = (id) => document.getElementById(id);
const state = { session: null, windowNo: null, offered: null, timer: null, resting: false };

function path() {
  return `/offices/${encodeURIComponent(state.session.office_id)}/windows/${state.windowNo}/rating`;
}

function renderAsk() {
  const offered = state.offered;
  $("ask-title").textContent = t("rate.ask", { number: offered.number || "" });
  $("ask-service").textContent = pick(offered.service_title);
  $("ask-error").hidden = true;
  $("stars").replaceChildren(...[1, 2, 3, 4, 5].map((n) => el("button", {
    type: "button", class: "secondary", dataset: { rating: n }, "aria-label": t("fb.star", { n }),
    onclick: (event) => rate(event.currentTarget, n),
  }, `${n} ★`)));
}

async function poll() {
  clearTimeout(state.timer);
  if (!state.resting) {
    try {
      const offered = await api("feedback", path(), { token: state.session.access_token });
      if (offered && offered.request_id !== state.offered?.request_id) {
        state.offered = offered;
        renderAsk();
        showScreen("ask");
      } else if (!offered && state.offered) {
        state.offered = null; // rated elsewhere (from the ticket's link) or too old
        showScreen("idle");
      }
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        showScreen("setup");
        return;
      }
    }
  }
  state.timer = setTimeout(poll, POLL_MS);
}

async function rate(button, rating) {
  try {
    // Each star button keeps its key across a lost connection: the retry is the same rating.
    await guarded(button, async (idempotencyKey) => {
      await api("feedback", path(), {
        method: "POST", token: state.session.access_token, body: { request_id: state.offered.request_id, rating }, idempotencyKey,
      });
      $("thanks-note").textContent = "";
    });
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "VisitAlreadyRated") {
      $("ask-error").textContent = error.reason || String(error);
      $("ask-error").hidden = false;
      return;
    }
    $("thanks-note").textContent = error.reason; // rated already: say so, in the screen's language
  }
  state.resting = true;
  showScreen("thanks");
  setTimeout(() => {
    state.resting = false;
    state.offered = null;
    showScreen("idle");
    poll();
  }, THANKS_MS);
}

function pair(session, windowNo) {
  state.session = session;
  state.windowNo = windowNo;
  localStorage.setItem(WINDOW_KEY, String(windowNo));
  $("paired").textContent = `· ${t("rate.paired", { n: windowNo })}`;
  document.body.dataset.window = String(windowNo);
  showScreen("idle");
  poll();
}

$("setup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const username = String(data.get("username") || "").trim();
  // An operator's account names its window (operator-<office>-<n>); the kiosk account needs the number.
  const windowNo = Number(data.get("window_no")) || Number((username.match(/-(\d+)$/) || [])[1]);
  try {
    await guarded(form.querySelector("[type=submit]"), async () => {
      if (!windowNo) throw new ApiError(422, t("rate.window"), [{ field: "window_no", message: t("common.required") }]);
      const session = await signIn(SCOPE, username, String(data.get("password") || ""));
      form.reset();
      pair(session, windowNo);
    });
  } catch (error) {
    showErrors(form, error);
  }
});

initI18n("rate");
onLangChange(() => {
  if (state.windowNo) $("paired").textContent = `· ${t("rate.paired", { n: state.windowNo })}`;
  if (state.offered) renderAsk();
});
const session = staffSession(SCOPE);
const remembered = Number(localStorage.getItem(WINDOW_KEY));
if (session && remembered && !new URLSearchParams(location.search).has("setup")) pair(session, remembered);
else showScreen("setup");
