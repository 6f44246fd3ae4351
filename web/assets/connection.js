// The "connection lost" banner: raised by any failed call, it probes until the service answers again,
// then hides itself and tells the page (event "ow:reconnected") so the page can refresh what it shows.

import { t } from "./i18n.js";

const PROBE_START_MS = 1000;
const PROBE_MAX_MS = 8000;

class Connection extends EventTarget {
  constructor() {
    super();
    this.down = new Set();
    this.timer = null;
    this.delay = PROBE_START_MS;
    addEventListener("offline", () => this.lost("catalog"));
    addEventListener("online", () => this.probeSoon(0));
  }

  banner() {
    let el = document.getElementById("connection-banner");
    if (!el) {
      el = document.createElement("div");
      el.id = "connection-banner";
      el.className = "connection-banner";
      el.setAttribute("role", "status");
      el.setAttribute("aria-live", "assertive");
      el.hidden = true;
      document.body.prepend(el);
    }
    return el;
  }

  get isDown() {
    return this.down.size > 0;
  }

  /** A call to `service` failed for lack of a connection (or the service is down). */
  lost(service) {
    const wasUp = !this.isDown;
    this.down.add(service);
    const el = this.banner();
    el.textContent = t("net.lost");
    el.hidden = false;
    document.body.classList.add("is-offline");
    if (wasUp) {
      this.delay = PROBE_START_MS;
      this.probeSoon(this.delay);
      this.dispatchEvent(new Event("lost"));
    }
  }

  /** A call to `service` got an answer. */
  ok(service) {
    if (!this.down.delete(service) || this.isDown) return;
    this.recovered();
  }

  recovered() {
    clearTimeout(this.timer);
    this.timer = null;
    const el = this.banner();
    el.textContent = t("net.back");
    document.body.classList.remove("is-offline");
    setTimeout(() => {
      if (!this.isDown) el.hidden = true;
    }, 2500);
    this.dispatchEvent(new Event("reconnected"));
    window.dispatchEvent(new Event("ow:reconnected"));
  }

  probeSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.probe(), delay);
  }

  async probe() {
    for (const service of [...this.down]) {
      try {
        const response = await fetch(`/api/${service}/alive`, { cache: "no-store" });
        if (response.ok) this.down.delete(service);
      } catch {
        // still down: try again later
      }
    }
    if (!this.isDown) {
      this.recovered();
      return;
    }
    this.delay = Math.min(this.delay * 2, PROBE_MAX_MS);
    this.probeSoon(this.delay);
  }
}

export const connection = new Connection();
