// Drawings in SVG: membership periods on a time line, an attendance calendar, and
// line charts of samples over time. No library: a few rectangles and a polyline.
import { el } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY = 86400000;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

const day = (text) => Date.parse(`${text}T00:00:00Z`);

// Each membership a bar from its join to its last day (or today), with the role.
export function membershipLine(memberships, width = 720) {
  if (!memberships.length) return el("p", { class: "muted", id: "memberships" }, "No membership.");
  const now = Date.now();
  const start = Math.min(...memberships.map((m) => day(m.joined_on)));
  const end = Math.max(now, ...memberships.map((m) => (m.left_on ? day(m.left_on) + DAY : now)));
  const x = (t) => 10 + ((t - start) / Math.max(DAY, end - start)) * (width - 20);
  const bars = memberships.map((m) => {
    const to = m.left_on ? day(m.left_on) + DAY : now;
    return svg("g", { class: "membership" },
      svg("rect", { x: x(day(m.joined_on)), y: 10, width: Math.max(3, x(to) - x(day(m.joined_on))), height: 22, rx: 3 },
        svg("title", {}, `${m.role}: ${m.joined_on} → ${m.left_on || "now"}`)),
      svg("text", { x: x(day(m.joined_on)) + 4, y: 26 }, m.role));
  });
  const axis = [start, end].map((t, i) => svg("text", { x: i ? width - 10 : 10, y: 50, "text-anchor": i ? "end" : "start", class: "axis" },
    new Date(t).toISOString().slice(0, 10)));
  return svg("svg", { id: "memberships", width, height: 56, viewBox: `0 0 ${width} 56` }, ...bars, ...axis);
}

// A month grid for each month from the first day attended to the last, days attended marked.
export function attendanceCalendar(days) {
  if (!days.length) return el("p", { class: "muted", id: "attendance" }, "No day attended.");
  const attended = new Set(days);
  const first = new Date(day(days[0]));
  const last = new Date(day(days[days.length - 1]));
  const months = [];
  for (let m = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)); m <= last && months.length < 24;
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) {
    months.push(month(m, attended));
  }
  return el("div", { id: "attendance", class: "calendar" }, months);
}

function month(first, attended) {
  const cells = [];
  const blanks = (first.getUTCDay() + 6) % 7; // weeks start on Monday
  for (let i = 0; i < blanks; i++) cells.push(el("span", {}));
  for (let d = new Date(first); d.getUTCMonth() === first.getUTCMonth(); d = new Date(d.getTime() + DAY)) {
    const text = d.toISOString().slice(0, 10);
    cells.push(el("span", { class: attended.has(text) ? "day attended" : "day", title: text, "data-day": text }, d.getUTCDate()));
  }
  return el("div", { class: "month" }, el("div", { class: "month-name" }, first.toISOString().slice(0, 7)),
    el("div", { class: "days" }, "MTWTFSS".split("").map((c) => el("span", { class: "muted" }, c)), cells));
}

// A line chart of [time ms, value] samples over the last ``span`` ms.
export function lineChart(title, samples, span, unit = "", width = 340, height = 120) {
  const now = Date.now();
  const shown = samples.filter(([t]) => t >= now - span);
  const top = Math.max(1, ...shown.map(([, v]) => v));
  const x = (t) => ((t - (now - span)) / span) * width;
  const y = (v) => height - 4 - (v / top) * (height - 20);
  const points = shown.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const latest = shown.length ? shown[shown.length - 1][1] : null;
  return el("figure", { class: "chart" },
    el("figcaption", {}, `${title}: `, el("strong", {}, latest === null ? "—" : `${round(latest)}${unit}`), el("span", { class: "muted" }, ` (max ${round(top)})`)),
    svg("svg", { width, height, viewBox: `0 0 ${width} ${height}` },
      svg("line", { x1: 0, x2: width, y1: height - 4, y2: height - 4, class: "axis" }),
      svg("polyline", { points, fill: "none" })));
}

const round = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);
