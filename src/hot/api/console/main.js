// The console: sign in with a token, then one page at a time, chosen by the URL's hash.
import { call, token } from "./api.js";
import { problemBox } from "./dom.js";
import { grant } from "./grant.js";
import { feedPage } from "./feed.js";
import { humanPage, humansPage } from "./humans.js";
import { catalogPage } from "./catalog.js";
import { operationsPage } from "./operations.js";

let leave = () => {}; // what the current page does when another is shown (close its feed)

async function signIn(value) {
  const me = await call("/auth/me", { bearer: value });
  token.set(value);
  Object.assign(grant, me);
  document.getElementById("who").textContent = `${me.name} (${me.scopes.join(", ")})`;
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("page").hidden = false;
  show();
}

function signOut() {
  token.clear();
  leave();
  location.hash = "";
  location.reload();
}

function show() {
  if (!token.get()) return;
  leave();
  const page = document.getElementById("page");
  page.replaceChildren();
  const [, name, id] = (location.hash || "#/feed").split("/");
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.getAttribute("href") === `#/${name}`);
  }
  const pages = {
    feed: () => feedPage(page),
    humans: () => (id ? humanPage(page, decodeURIComponent(id)) : humansPage(page)),
    catalog: () => catalogPage(page),
    operations: () => operationsPage(page),
  };
  const left = (pages[name] || pages.feed)(); // a feed's closer; other pages leave nothing
  leave = typeof left === "function" ? left : () => {};
}

document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = document.getElementById("sign-in-problem");
  box.hidden = true;
  try {
    await signIn(document.getElementById("token").value.trim());
  } catch (error) {
    box.replaceChildren(problemBox(error));
    box.hidden = false;
  }
});
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", show);
if (token.get()) signIn(token.get()).catch(() => token.clear());
