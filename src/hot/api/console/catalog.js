// The catalog: every event type and version, its schema with personal fields marked, its
// compatibility mode and its Redis stream (from the AsyncAPI document).
import { call } from "./api.js";
import { el, json, problemBox } from "./dom.js";

export async function catalogPage(page) {
  page.append(el("h1", {}, "Catalog"),
    el("p", {}, "The streams as an AsyncAPI 3.0 document: ",
      el("a", { href: "/catalog/asyncapi.json", id: "asyncapi" }, "/catalog/asyncapi.json"),
      ". The API itself: ", el("a", { href: "/schema" }, "/schema"), "."));
  try {
    const [catalog, asyncapi] = await Promise.all([call("/catalog"), call("/catalog/asyncapi.json")]);
    const streams = Object.values(asyncapi.channels).map((c) => c.address);
    const streamOf = (name) => streams.find((a) => a.endsWith(`:${name}`)) || "—";
    page.append(el("table", { id: "catalog", class: "catalog" },
      el("tr", {}, ["name", "version", "owner", "compatibility", "stream", "personal fields", "schema"].map((h) => el("th", {}, h))),
      catalog.events.map((e) => el("tr", { "data-name": e.name, "data-version": e.version },
        el("td", {}, el("strong", {}, e.name), el("div", { class: "muted" }, e.description)),
        el("td", {}, e.version, e.deprecated ? el("span", { class: "badge" }, "deprecated") : ""),
        el("td", {}, e.owner),
        el("td", {}, e.compatibility || "— (built-in)"),
        el("td", {}, el("code", {}, streamOf(e.name))),
        el("td", {}, personalFields(e.schema).map((f) => el("span", { class: "badge personal" }, f))),
        el("td", {}, el("details", {}, el("summary", {}, e.dataschema), json(e.schema)))))));
  } catch (error) {
    page.append(problemBox(error));
  }
}

const personalFields = (schema) =>
  Object.entries(schema.properties || {}).filter(([, p]) => p["x-personal"]).map(([name]) => name);
