// Server-sent events over fetch, so a reconnect can send Last-Event-ID itself (EventSource only does
// that on its own retries, and gives up for good after an HTTP error). Reconnects with backoff, forever.

import { connection } from "./connection.js";

const RETRY_START_MS = 1000;
const RETRY_MAX_MS = 10000;

/**
 * Opens `url` as an event stream. Callbacks: onEvent({type, data, id}), onState("live"|"down").
 * `headers` go with every (re)connect, e.g. a staff bearer token.
 * `lastEventId` resumes after that event. Returns {close(), lastEventId()}.
 */
export function openStream(url, { onEvent, onState = () => {}, lastEventId = null, service = "notifier", headers: extra = {} }) {
  let lastId = lastEventId;
  let retryMs = RETRY_START_MS;
  let controller = null;
  let closed = false;
  let timer = null;

  function dispatch(block) {
    let type = "message";
    let id = null;
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
      else if (field === "retry" && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (id !== null) lastId = id;
    if (!data.length) return;
    let payload = data.join("\n");
    try {
      payload = JSON.parse(payload);
    } catch {
      // plain text event: pass it as it is
    }
    onEvent({ type, data: payload, id: id ?? lastId });
  }

  async function run() {
    controller = new AbortController();
    const headers = { Accept: "text/event-stream", ...extra };
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    try {
      const response = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      connection.ok(service);
      onState("live");
      retryMs = RETRY_START_MS;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) !== -1) {
          dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (error) {
      if (closed) return;
      if (error.name !== "AbortError") connection.lost(service);
    }
    if (closed) return;
    onState("down");
    timer = setTimeout(run, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  run();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
    lastEventId: () => lastId,
  };
}
