// The feedback page (/feedback/{token} from the SMS, /r/{ticket token} from the QR printed on the ticket):
// a 1-5 rating, tags and a comment, once per visit; then thanks.

import { api, ApiError } from "/assets/api.js";
import { initI18n, onLangChange, pick, t } from "/assets/i18n.js";
import { clearErrors, el, guarded, newIntent, showErrors, showScreen, tokenFromPath } from "/assets/ui.js";

const token = tokenFromPath();
// The link printed on the ticket carries the ticket's own token: feedback finds the visit by it.
const fromTicket = location.pathname.startsWith("/r/");
const path = token ? (fromTicket ? `/feedback/by-ticket/${encodeURIComponent(token)}` : `/feedback/${encodeURIComponent(token)}`) : "";
const $ = (id) => document.getElementById(id);
let page = null;

function renderForm() {
  $("fb-service").textContent = pick(page.service_title) || page.service_id;
  $("fb-office").textContent = `${pick(page.office_name) || page.office_id} · ${page.visit_day}`;
  const rating = new FormData($("feedback-form")).get("rating");
  const chosenTags = new Set(new FormData($("feedback-form")).getAll("tags"));
  $("stars").replaceChildren(...[1, 2, 3, 4, 5].map((n) => el("label", {},
    el("input", { type: "radio", name: "rating", value: n, checked: String(n) === rating, "aria-label": t("fb.star", { n }) }),
    el("span", { "aria-hidden": "true" }, String(n), el("small", {}, "★".repeat(n))))));
  $("tags").replaceChildren(...page.tags.map((tag) => el("label", {},
    el("input", { type: "checkbox", name: "tags", value: tag, checked: chosenTags.has(tag) }),
    el("span", {}, t(`tag.${tag}`)))));
  $("comment").maxLength = page.max_comment_chars || 1000;
}

async function load() {
  try {
    page = await api("feedback", path);
  } catch (error) {
    // From the ticket, before the visit is over there is nothing to rate yet.
    $("load-error").textContent = fromTicket && error.status === 404 ? t("rate.waiting") : error.reason || String(error);
    $("load-error").hidden = false;
    return;
  }
  if (page.answered) {
    showScreen("thanks");
    return;
  }
  renderForm();
  showScreen("ask");
}

$("feedback-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const data = new FormData(form);
  if (!data.get("rating")) {
    showErrors(form, { reason: t("fb.pick"), fields: [{ field: "rating", message: t("fb.pick") }] });
    return;
  }
  const body = { rating: Number(data.get("rating")), tags: data.getAll("tags"), comment: String(data.get("comment") || "") };
  try {
    // The key makes a retry after a lost connection the same rating, answered as the first time.
    await guarded($("send"), async (idempotencyKey) => {
      await api("feedback", path, { method: "POST", body, idempotencyKey });
      showScreen("thanks");
    });
  } catch (error) {
    showErrors(form, error);
    if (error instanceof ApiError && error.status === 409) showScreen("thanks");
  }
});

// A changed answer is a new intent (its own key), not a retry of the one that got lost.
$("feedback-form").addEventListener("input", () => newIntent($("send")));

initI18n("feedback");
onLangChange(() => page && !page.answered && renderForm());
if (token) load();
