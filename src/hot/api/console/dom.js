// Small helpers to build the page: elements, JSON, problems, confirmations.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

export const json = (value) => el("pre", { class: "json" }, JSON.stringify(value, null, 2));

// A problem box (role=alert) showing the refusal's title and detail.
export function problemBox(error) {
  const problem = error.problem || { title: "Error", detail: String(error.message || error) };
  return el("div", { class: "problem", role: "alert" },
    el("strong", { class: "problem-title" }, problem.title),
    " ", el("span", { class: "problem-detail" }, problem.detail));
}

// Ask before doing: resolves true if confirmed. With ``typed``, the user must type it.
export function confirmed(text, typed) {
  const dialog = document.getElementById("confirm");
  const input = document.getElementById("confirm-typed");
  const ok = document.getElementById("confirm-ok");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-typed-label").hidden = !typed;
  input.value = "";
  ok.disabled = Boolean(typed);
  input.oninput = () => { ok.disabled = input.value.trim() !== typed; };
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}
