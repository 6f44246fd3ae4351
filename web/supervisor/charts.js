// Two small SVG charts drawn by hand: a two-line chart over time with a threshold line, and bars.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function frame(width, height, title) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  root.append(svg("title", {}, title));
  return root;
}

/**
 * Lines `a` (left axis, e.g. people waiting) and `b` (right axis, minutes) over time, with a dashed
 * `threshold` on the minutes axis (the wait target). points: [{x: ms, a, b}].
 */
export function lineChart({ points, labelA, labelB, threshold, xLabel, title }) {
  const W = 760;
  const H = 240;
  const pad = { l: 40, r: 44, t: 16, b: 34 };
  const root = frame(W, H, `${title}: ${labelA}, ${labelB}`);
  const innerW = W - pad.l - pad.r;
  const innerH = H - pad.t - pad.b;
  const xs = points.map((p) => p.x);
  const x0 = xs.length ? Math.min(...xs) : Date.now() - 3600_000;
  const x1 = xs.length > 1 ? Math.max(...xs) : x0 + 3600_000;
  const maxA = Math.max(4, ...points.map((p) => p.a));
  const maxB = Math.max(threshold * 1.5, ...points.map((p) => p.b));
  const X = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * innerW;
  const YA = (v) => pad.t + innerH - (v / maxA) * innerH;
  const YB = (v) => pad.t + innerH - (v / maxB) * innerH;

  root.append(svg("line", { class: "axis", x1: pad.l, y1: pad.t + innerH, x2: W - pad.r, y2: pad.t + innerH }));
  root.append(svg("line", { class: "axis", x1: pad.l, y1: pad.t, x2: pad.l, y2: pad.t + innerH }));
  root.append(svg("line", { class: "axis", x1: W - pad.r, y1: pad.t, x2: W - pad.r, y2: pad.t + innerH }));
  for (let i = 0; i <= 4; i += 1) {
    const va = Math.round((maxA * i) / 4);
    const vb = Math.round((maxB * i) / 4);
    root.append(svg("text", { x: pad.l - 6, y: YA(va) + 4, "text-anchor": "end" }, String(va)));
    root.append(svg("text", { x: W - pad.r + 6, y: YB(vb) + 4 }, String(vb)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const x = x0 + ((x1 - x0) * i) / 4;
    root.append(svg("text", { x: X(x), y: H - 12, "text-anchor": "middle" }, xLabel(x)));
  }
  root.append(svg("line", { class: "sla-line", x1: pad.l, x2: W - pad.r, y1: YB(threshold), y2: YB(threshold) }));
  root.append(svg("text", { x: W - pad.r - 4, y: YB(threshold) - 4, "text-anchor": "end", fill: "#b3261e" }, `SLA ${threshold}`));
  const path = (key, Y) => points.map((p, i) => `${i ? "L" : "M"}${X(p.x).toFixed(1)} ${Y(p[key]).toFixed(1)}`).join(" ");
  if (points.length) {
    root.append(svg("path", { d: path("a", YA), fill: "none", stroke: "#0b5cad", "stroke-width": 2.5 }));
    root.append(svg("path", { d: path("b", YB), fill: "none", stroke: "#e86a10", "stroke-width": 2.5 }));
    const last = points[points.length - 1];
    root.append(svg("circle", { cx: X(last.x), cy: YA(last.a), r: 4, fill: "#0b5cad" }));
    root.append(svg("circle", { cx: X(last.x), cy: YB(last.b), r: 4, fill: "#e86a10" }));
  }
  root.append(svg("rect", { x: pad.l + 8, y: pad.t, width: 12, height: 4, fill: "#0b5cad" }));
  root.append(svg("text", { x: pad.l + 24, y: pad.t + 5 }, labelA));
  root.append(svg("rect", { x: pad.l + 150, y: pad.t, width: 12, height: 4, fill: "#e86a10" }));
  root.append(svg("text", { x: pad.l + 166, y: pad.t + 5 }, labelB));
  return root;
}

/** Vertical bars with their values; bars marked `bad` are drawn red. bars: [{label, value, bad}]. */
export function barChart({ bars, title }) {
  const W = 300;
  const H = 240;
  const pad = { l: 16, r: 16, t: 24, b: 30 };
  const root = frame(W, H, `${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(", ")}`);
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = (W - pad.l - pad.r) / bars.length;
  const innerH = H - pad.t - pad.b;
  bars.forEach((bar, i) => {
    const h = (bar.value / max) * innerH;
    const x = pad.l + i * slot + slot * 0.15;
    root.append(svg("rect", { x, y: pad.t + innerH - h, width: slot * 0.7, height: Math.max(h, 1), rx: 3,
      fill: bar.bad ? "#b3261e" : "#0b5cad" }));
    root.append(svg("text", { x: x + slot * 0.35, y: pad.t + innerH - h - 6, "text-anchor": "middle" }, String(bar.value)));
    root.append(svg("text", { x: x + slot * 0.35, y: H - 10, "text-anchor": "middle" }, bar.label));
  });
  root.append(svg("text", { x: pad.l, y: 14 }, title));
  return root;
}
