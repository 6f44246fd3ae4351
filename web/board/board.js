// The hall board: the last calls (newest highlighted) and waiting per service, live over SSE; each call
// is announced once: a chime, then the office's language, then the citizen's where it differs, one call
// after another. Reconnects by itself with Last-Event-ID.
//
// Sound: browsers speak only after a tap on the page ("Turn sound on"); until then the board shows
// "Sound off". A board run as a kiosk-mode display speaks without a tap: open it with `?kiosk=1` in a
// Chromium started with `--autoplay-policy=no-user-gesture-required` (see web/README.md).

import { api } from "/assets/api.js";
import { initI18n, lang, onLangChange, pick, t } from "/assets/i18n.js";
import { openStream } from "/assets/sse.js";
import { chooseOffice, clock, el } from "/assets/ui.js";

const SPOKEN_KEY = "ow.board.spoken";
const SPEECH_TIMEOUT_MS = 12_000; // some engines never fire `end`: do not let one call block the rest
const SHOWN_CALLS = 6;
const KIOSK_MODE = new URLSearchParams(location.search).get("kiosk") === "1";
const VOICES = { ru: "ru-RU", tt: "tt-RU", en: "en-GB" };

const board = { officeId: null, office: null, calls: [], waiting: null, speechLang: "ru" };
const speech = { queue: [], speaking: false, enabled: KIOSK_MODE, audio: null };
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

function callText(call, language) {
  return call.texts?.[language] || call.texts?.ru || t("board.say", { number: printed(call.number), window: call.window_no });
}

function announce(call) {
  const key = callKey(call);
  if (spoken.has(key)) return;
  spoken.add(key);
  sessionStorage.setItem(SPOKEN_KEY, JSON.stringify([...spoken].slice(-200)));
  // The office's language first, then the citizen's where it differs.
  const languages = [board.speechLang];
  if (call.language && call.language !== board.speechLang) languages.push(call.language);
  $("announcer").textContent = languages.map((language) => callText(call, language)).join(" · ");
  document.body.dataset.announced = String(Number(document.body.dataset.announced || 0) + 1);
  document.body.dataset.announcedIn = languages.join(" ");
  if (!speech.enabled) return; // shown, not spoken: the board says "Sound off"
  speech.queue.push(languages.map((language) => ({ language, text: callText(call, language) })));
  speakNext();
}

/** Two soft tones before an announcement (Web Audio; silent where there is none). */
function chime() {
  return new Promise((resolve) => {
    try {
      speech.audio ||= new AudioContext();
      const audio = speech.audio;
      audio.resume?.();
      [[660, 0], [880, 0.3]].forEach(([frequency, at]) => {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, audio.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + at + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + at + 0.28);
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + at);
        tone.stop(audio.currentTime + at + 0.3);
      });
      document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
    } catch {
      // no audio device: the words still come
    }
    setTimeout(resolve, 700);
  });
}

function say(text, language) {
  return new Promise((resolve) => {
    if (!("speechSynthesis" in window)) {
      resolve();
      return;
    }
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = VOICES[language] || "ru-RU";
    const voice = speechSynthesis.getVoices().find((v) => v.lang.startsWith(language));
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    const guard = setTimeout(resolve, SPEECH_TIMEOUT_MS); // some engines never fire `end`
    utterance.onend = utterance.onerror = () => {
      clearTimeout(guard);
      resolve();
    };
    speechSynthesis.speak(utterance);
    document.body.dataset.spoken = `${document.body.dataset.spoken || ""} ${language}`.trim();
  });
}

async function speakNext() {
  if (speech.speaking || !speech.queue.length) return;
  speech.speaking = true;
  const parts = speech.queue.shift();
  try {
    await chime();
    for (const part of parts) await say(part.text, part.language);
  } finally {
    speech.speaking = false;
    speakNext();
  }
}

function renderSound() {
  document.body.dataset.sound = speech.enabled ? "on" : "off";
  $("sound-state").textContent = speech.enabled ? t("board.sound_is_on") : t("board.sound_off");
  $("sound").hidden = speech.enabled;
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
  speech.audio ||= window.AudioContext ? new AudioContext() : null;
  speech.audio?.resume?.();
  $("sound").setAttribute("aria-pressed", "true");
  renderSound();
});

initI18n("board");
renderSound();
onLangChange(() => {
  renderSound();
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
