// Commands (tokens with write; forget with admin): each asks for a confirmation first,
// and a refusal shows the API's problem, its title and detail.
import { call } from "./api.js";
import { confirmed, el, problemBox } from "./dom.js";
import { may } from "./grant.js";

// Confirm, then POST body to path; shows the outcome in ``outcome``. The answer, or null.
export async function command(outcome, question, path, body, typed) {
  outcome.replaceChildren();
  if (!(await confirmed(question, typed))) return null;
  try {
    const answer = await call(path, { method: "POST", body });
    outcome.replaceChildren(el("p", { class: "done" }, `Done: version ${answer.version}, position ${answer.position}.`));
    return answer;
  } catch (error) {
    outcome.replaceChildren(problemBox(error));
    return null;
  }
}

const today = () => new Date().toISOString().slice(0, 10);
const again = () => window.dispatchEvent(new HashChangeEvent("hashchange")); // show it anew

function form(id, title, fields, ask, path, body, typed) {
  const outcome = el("div", { class: "outcome" });
  return el("form", { id, class: "command", onsubmit: async (event) => {
    event.preventDefault();
    if (await command(outcome, ask(), path, body(), typed)) setTimeout(again, 800);
  } }, el("h3", {}, title), fields, el("button", { type: "submit" }, title), outcome);
}

export function commandPanel(id) {
  const joinOn = el("input", { type: "date", name: "on", value: today() });
  const role = el("input", { name: "role", value: "member" });
  const leaveOn = el("input", { type: "date", name: "on", value: today() });
  const reason = el("input", { name: "reason" });
  const attendOn = el("input", { type: "date", name: "on", value: today() });
  const panel = el("section", { id: "commands" }, el("h2", {}, "Commands"),
    form("join", "Join", [el("label", {}, "On ", joinOn), el("label", {}, "Role ", role)],
      () => `Record that ${id} joined on ${joinOn.value} as ${role.value}?`,
      `/humans/${id}/join`, () => ({ on: joinOn.value, role: role.value })),
    form("leave", "Leave", [el("label", {}, "Last day ", leaveOn), el("label", {}, "Reason ", reason)],
      () => `Record that ${id} left, last day ${leaveOn.value}?`,
      `/humans/${id}/leave`, () => ({ on: leaveOn.value, ...(reason.value ? { reason: reason.value } : {}) })),
    form("attend", "Attend", [el("label", {}, "On ", attendOn)],
      () => `Record that ${id} attended on ${attendOn.value}?`,
      `/humans/${id}/attend`, () => ({ on: attendOn.value })));
  if (may.forget()) {
    panel.append(form("forget", "Forget", [el("p", { class: "muted" },
      "Destroys their personal data for good; the facts stay. You will type their id to confirm.")],
    () => `Forget ${id}? This cannot be undone.`, `/humans/${id}/forget`, () => undefined, id));
  }
  return panel;
}
