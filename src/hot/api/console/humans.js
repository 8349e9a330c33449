// Humans: find one by email or external id, register one; a human's page.
import { call, query } from "./api.js";
import { el, problemBox } from "./dom.js";
import { may } from "./grant.js";
import { command, commandPanel } from "./commands.js";
import { attendanceCalendar, membershipLine } from "./charts.js";

const KINDS = ["employee", "contractor", "intern", "visitor", "candidate", "alumnus", "guest", "other"];

export function humansPage(page) {
  const by = el("select", { id: "search-by" },
    el("option", { value: "email" }, "email"), el("option", { value: "external_id" }, "external id (scheme:value)"));
  const value = el("input", { id: "search-value", size: 40, required: true });
  const found = el("div", { id: "search-results" });
  const search = el("form", { id: "search", onsubmit: async (event) => {
    event.preventDefault();
    found.replaceChildren(el("p", { class: "muted" }, "searching…"));
    try {
      const { humans } = await call(`/humans?${query({ [by.value]: value.value.trim() })}`);
      found.replaceChildren(humans.length
        ? el("ul", {}, humans.map((h) => el("li", {}, el("a", { href: `#/humans/${h.id}`, class: "found" }, `${h.name} <${h.email}>`), ` ${h.kind}, ${h.status}`)))
        : el("p", { class: "muted" }, "No one."));
    } catch (error) {
      found.replaceChildren(problemBox(error));
    }
  } }, el("label", {}, "Find by ", by), " ", value, " ", el("button", { type: "submit" }, "Search"));
  page.append(el("h1", {}, "Humans"), search, found);
  if (may.write()) page.append(registerForm());
}

function registerForm() {
  const name = el("input", { name: "name", required: true });
  const email = el("input", { name: "email", type: "email", required: true });
  const kind = el("select", { name: "kind" }, KINDS.map((k) => el("option", { value: k }, k)));
  const outcome = el("div", { class: "outcome" });
  const form = el("form", { id: "register", class: "command", onsubmit: async (event) => {
    event.preventDefault();
    const body = { name: name.value, email: email.value, kind: kind.value };
    const done = await command(outcome, `Register ${body.name} <${body.email}> as ${body.kind}?`, "/humans", body);
    if (done) location.hash = `#/humans/${done.id}`;
  } },
  el("h2", {}, "Register a human"),
  el("label", {}, "Name ", name), el("label", {}, "Email ", email), el("label", {}, "Kind ", kind),
  el("button", { type: "submit" }, "Register"), outcome);
  return form;
}

// Every event of the human, page by page.
async function timeline(id) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = await call(`/humans/${id}/events?${query({ after, limit: 1000 })}`);
    events.push(...page.events);
    if (page.next === null) return events;
    after = page.next;
  }
}

export async function humanPage(page, id) {
  const state = el("div", { id: "state" });
  const travel = el("input", { id: "as-of", type: "datetime-local", step: "0.001" });
  const travelled = el("div", { id: "as-of-state" });
  const events = el("ol", { id: "timeline", class: "timeline" });
  const charts = el("div", { class: "charts" });
  page.append(el("h1", {}, "Human ", el("code", { id: "human-id" }, id)), state);
  try {
    const [human, history] = await Promise.all([call(`/humans/${id}`), timeline(id)]);
    state.replaceChildren(stateTable(human));
    charts.append(el("h2", {}, "Memberships"), membershipLine(human.memberships),
      el("h2", {}, "Attendance"), attendanceCalendar(human.attended_days));
    events.append(...history.map((e) => el("li", { "data-position": e.position },
      el("button", { class: "link", title: "See the state as recorded then", onclick: () => showAt(e.time) }, e.time.replace("T", " ").slice(0, 23)),
      " ", el("strong", {}, e.name), ` v${e.version} #${e.sequence} `,
      el("span", { class: "payload" }, JSON.stringify(e.payload)))));
  } catch (error) {
    state.replaceChildren(problemBox(error));
    return;
  }

  // An event's own instant (microseconds and all): the state as recorded by that event.
  async function showAt(instant) {
    const moment = new Date(instant); // the picker shows it on the user's clock, to the ms
    travel.value = new Date(moment.getTime() - moment.getTimezoneOffset() * 60000).toISOString().slice(0, 23);
    await travelTo(instant);
  }

  async function travelTo(instant = travel.value && new Date(travel.value).toISOString()) {
    if (!instant) return;
    try {
      const then = await call(`/humans/${id}?${query({ as_of: instant })}`);
      travelled.replaceChildren(el("p", {}, `As recorded at ${instant}:`), stateTable(then));
    } catch (error) {
      travelled.replaceChildren(problemBox(error));
    }
  }

  page.append(
    el("h2", {}, "Time travel"),
    el("form", { id: "travel", onsubmit: (event) => { event.preventDefault(); travelTo(); } },
      el("label", {}, "The state as recorded at ", travel), " ", el("button", { type: "submit" }, "Show")),
    travelled, charts, el("h2", {}, "Timeline"), events);
  if (may.write()) page.append(commandPanel(id));
}

function stateTable(human) {
  const rows = [
    ["name", human.name], ["email", human.email], ["kind", human.kind], ["status", human.status],
    ["version", human.version],
    ["external ids", Object.entries(human.external_ids).map(([s, v]) => `${s}: ${v}`).join(", ") || "—"],
    ["memberships", human.memberships.map((m) => `${m.role} ${m.joined_on} → ${m.left_on || "now"}`).join("; ") || "—"],
    ["days attended", human.attended_days.length],
  ];
  return el("table", { class: "state" }, rows.map(([key, value]) =>
    el("tr", {}, el("th", {}, key), el("td", { "data-field": key.replace(" ", "-") }, value))));
}
