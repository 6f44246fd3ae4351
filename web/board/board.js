// The hall board: the last calls (newest highlighted) and waiting per service, live over SSE; each call
// is spoken once, in the office's language, one after another. Reconnects by itself with Last-Event-ID.

import { api } from "/assets/api.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { openStream } from "/assets/sse.js";
import { chooseOffice, clock, el } from "/assets/ui.js";

const SPOKEN_KEY = "ow.board.spoken";
const SPEECH_TIMEOUT_MS = 12_000; // some engines never fire `end`: do not let one call block the rest
const SHOWN_CALLS = 6;

const board = { officeId: null, office: null, calls: [], waiting: null, speechLang: "ru" };
const speech = { queue: [], speaking: false, enabled: false };
const spoken = new Set(JSON.parse(sessionStorage.getItem(SPOKEN_KEY) || "[]"));
const $ = (id) => document.getElementById(id);

// The notifier may write "А-017" for the ear; the hall reads what the slip says ("А017").
function printed(number) {
  return String(number).replace(/^([^\d-]+)-(\d)/, "$1$2");
}

function callKey(call) {
  return `${call.ticket_id}:${call.call_no}`;
}

// ------------------------------------------------------------------ drawing

function renderCalls() {
  const calls = board.calls.slice(0, SHOWN_CALLS);
  $("no-calls").hidden = calls.length > 0;
  $("calls").replaceChildren(...calls.map((call, i) => el("li", {
    class: i === 0 ? "call newest" : "call",
    dataset: { number: printed(call.number), window: call.window_no },
    "aria-current": i === 0 ? "true" : null,
  },
  el("span", { class: "number" }, el("span", { class: "visually-hidden" }, `${t("board.ticket")} `), printed(call.number)),
  el("span", { class: "where" }, `${t("board.to_window")} ${call.window_no}`,
    el("small", {}, pick(call.zone_name) || call.zone_id || "")))));
}

function renderWaiting() {
  const services = (board.waiting?.services || []).filter((s) => s.waiting > 0 || s.open_windows > 0);
  $("waiting").replaceChildren(...services.map((s) => el("li", { dataset: { serviceId: s.service_id } },
    el("span", {}, s.letter ? `${s.letter} · ` : "", pick(s.title) || s.service_id),
    el("span", { class: "people" }, t("board.people", { n: s.waiting })),
    el("span", { class: "eta" }, s.waiting > 0 ? t("board.wait", { n: s.estimated_wait_minutes }) : "—"))));
}

function tick() {
  $("clock").textContent = clock(new Date(), board.office?.timezone);
}

// ------------------------------------------------------------------ speech, one call after another

function announce(call) {
  const key = callKey(call);
  if (spoken.has(key)) return;
  spoken.add(key);
  sessionStorage.setItem(SPOKEN_KEY, JSON.stringify([...spoken].slice(-200)));
  const text = call.texts?.[board.speechLang] || call.texts?.ru ||
    t("board.say", { number: printed(call.number), window: call.window_no });
  $("announcer").textContent = text;
  document.body.dataset.announced = String(Number(document.body.dataset.announced || 0) + 1);
  speech.queue.push(text);
  speakNext();
}

function speakNext() {
  if (speech.speaking || !speech.queue.length || !("speechSynthesis" in window)) return;
  const text = speech.queue.shift();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = { ru: "ru-RU", tt: "tt-RU", en: "en-GB" }[board.speechLang] || "ru-RU";
  const voice = speechSynthesis.getVoices().find((v) => v.lang.startsWith(board.speechLang));
  if (voice) utterance.voice = voice;
  utterance.rate = 0.9;
  speech.speaking = true;
  const done = () => {
    if (!speech.speaking) return;
    speech.speaking = false;
    clearTimeout(guard);
    speakNext();
  };
  const guard = setTimeout(done, SPEECH_TIMEOUT_MS);
  utterance.onend = done;
  utterance.onerror = done;
  speechSynthesis.speak(utterance);
}

// ------------------------------------------------------------------ the stream

function onEvent({ type, data }) {
  if (type === "snapshot") {
    board.calls = data.calls || [];
    board.waiting = data.waiting || null;
    // Calls in a snapshot were announced before this screen was here: mark, do not speak.
    for (const call of board.calls) spoken.add(callKey(call));
    renderCalls();
    renderWaiting();
  } else if (type === "call") {
    board.calls = [data, ...board.calls.filter((c) => callKey(c) !== callKey(data))].slice(0, 20);
    renderCalls();
    announce(data);
  } else if (type === "waiting") {
    board.waiting = data;
    renderWaiting();
  }
}

function onState(state) {
  $("stream-state").textContent = t(state === "live" ? "board.live" : "board.reconnecting");
  $("stream-state").dataset.state = state;
  document.body.dataset.stream = state;
}

async function start() {
  board.officeId = await chooseOffice("board");
  board.office = await api("catalog", `/offices/${encodeURIComponent(board.officeId)}`, { query: { lang: lang() } });
  board.speechLang = board.office.configuration?.default_language || "ru";
  $("office-name").textContent = board.office.name;
  tick();
  setInterval(tick, 10_000);
  openStream(`/api/notifier/boards/${encodeURIComponent(board.officeId)}/stream`, { onEvent, onState });
}

$("sound").addEventListener("click", () => {
  // Browsers speak only after a user gesture on the page: this tap unlocks the voice for the day.
  speech.enabled = true;
  if ("speechSynthesis" in window) speechSynthesis.speak(new SpeechSynthesisUtterance(" "));
  $("sound").textContent = t("board.sound_is_on");
  $("sound").setAttribute("aria-pressed", "true");
});

initI18n("board");
onLangChange(() => {
  renderCalls();
  renderWaiting();
  if (board.officeId) {
    api("catalog", `/offices/${encodeURIComponent(board.officeId)}`, { query: { lang: lang() } })
      .then((office) => { board.office = office; $("office-name").textContent = office.name; })
      .catch(() => {});
  }
});
start().catch((error) => {
  $("no-calls").textContent = error.reason || String(error);
});
