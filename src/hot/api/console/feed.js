// The live feed: the last KEEP events in memory, only the visible rows in the page,
// drawn at most once a frame, so that hundreds of events a second do not freeze it.
import { call, query } from "./api.js";
import { el, json, problemBox } from "./dom.js";
import { follow } from "./stream.js";

const KEEP = 2000;
const ROW = 28; // px, each row's height (the list is virtualised on it)

export function feedPage(page) {
  const events = []; // oldest first, at most KEEP
  let frozen = null; // the events shown while paused
  let frame = 0;
  let arrived = 0;

  const name = el("select", { id: "feed-name", onchange: draw }, el("option", { value: "" }, "every name"));
  const human = el("input", { id: "feed-human", placeholder: "human id", size: 38, oninput: draw });
  const pause = el("button", { id: "feed-pause", onclick: togglePause }, "Pause");
  const status = el("span", { id: "feed-status", class: "muted" }, "connecting");
  const count = el("span", { id: "feed-count", class: "muted" });
  const spacer = el("div", { class: "spacer" });
  const list = el("div", { id: "feed-list", class: "feed-list", onscroll: draw }, spacer);
  const detail = el("div", { id: "feed-detail", class: "detail" },
    el("p", { class: "muted" }, "Click an event to see it in full."));
  page.append(
    el("h1", {}, "Live feed"),
    el("div", { class: "controls" }, el("label", {}, "Name ", name), el("label", {}, "Human ", human), pause, status, count),
    el("div", { class: "feed" }, list, detail),
  );
  call("/catalog").then((catalog) => {
    const names = [...new Set(catalog.events.map((e) => e.name))];
    name.append(...names.map((n) => el("option", { value: n }, n)));
  }).catch(() => {});

  function togglePause() {
    frozen = frozen ? null : Object.assign(events.slice(), { arrivedAt: arrived });
    pause.textContent = frozen ? "Resume" : "Pause";
    draw();
  }

  function shown() {
    const wanted = name.value;
    const subject = human.value.trim();
    const source = frozen || events;
    const out = [];
    for (let i = source.length - 1; i >= 0; i--) { // newest first
      const e = source[i];
      if ((!wanted || e.name === wanted) && (!subject || e.subject === subject)) out.push(e);
    }
    return out;
  }

  function draw() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render() {
    frame = 0;
    const rows = shown();
    spacer.style.height = `${rows.length * ROW}px`;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 2);
    const last = Math.min(rows.length, first + Math.ceil(list.clientHeight / ROW) + 4);
    const visible = [];
    for (let i = first; i < last; i++) visible.push(row(rows[i], i));
    spacer.replaceChildren(...visible);
    const paused = frozen ? `, paused (${arrived - frozen.arrivedAt} new)` : "";
    count.textContent = `${rows.length} shown of the last ${events.length}, ${arrived} received${paused}`;
  }

  function row(e, index) {
    return el("div", {
      class: "row", style: `top:${index * ROW}px`, "data-position": e.position,
      "data-received-at": e.receivedAt, onclick: () => select(e),
    },
    el("span", { class: "pos" }, e.position),
    el("span", { class: "time" }, e.time.slice(11, 23)),
    el("span", { class: "name" }, e.name),
    el("a", { class: "subject", href: `#/humans/${e.subject}`, onclick: (x) => x.stopPropagation() }, e.subject.slice(0, 8)),
    el("span", { class: "payload" }, JSON.stringify(e.payload)));
  }

  async function select(e) {
    const cloud = el("div", {}, el("p", { class: "muted" }, "loading…"));
    detail.replaceChildren(
      el("h2", {}, `${e.name} at ${e.position}`),
      el("h3", {}, "HoT"), json(stripped(e)),
      el("h3", {}, "CloudEvents 1.0"), cloud);
    try {
      const page = await call(`/events?${query({ after: e.position - 1, limit: 1, format: "cloudevents" })}`);
      cloud.replaceChildren(json(page.cloudevents[0]));
    } catch (error) {
      cloud.replaceChildren(problemBox(error));
    }
  }

  const stop = follow((e) => {
    e.receivedAt = Date.now();
    events.push(e);
    arrived += 1;
    if (events.length > KEEP) events.shift();
    draw(); // once a frame at most; while paused, only the count moves
  }, (state) => { status.textContent = state; });
  return stop;
}

// The event as the API sent it (without what the console noted on it).
function stripped(e) {
  const { receivedAt, ...event } = e;
  return event;
}
