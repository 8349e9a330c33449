// Operations: health, the projections (relay, hot_read) and their lag, and charts of
// the relay's lag and throughput from GET /metrics, sampled every few seconds.
import { text } from "./api.js";
import { el, json, problemBox } from "./dom.js";
import { lineChart } from "./charts.js";

const EVERY_MS = 2000;
const SPAN_MS = 10 * 60 * 1000; // the charts show the last ten minutes
const samples = { lag: [], lagSeconds: [], throughput: [], sqlLag: [], commands: [] };
let previous = null; // the last scrape's counters, for rates

// The Prometheus text format: each metric's value, summed over its labels.
export function parseMetrics(body) {
  const values = {};
  for (const line of body.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match) values[match[1]] = (values[match[1]] || 0) + Number(match[3]);
  }
  return values;
}

function record(metrics, now) {
  const keep = (series, value) => {
    if (value === undefined || Number.isNaN(value)) return;
    series.push([now, value]);
    while (series.length && series[0][0] < now - SPAN_MS) series.shift();
  };
  keep(samples.lag, metrics.hot_relay_lag_events);
  keep(samples.lagSeconds, metrics.hot_relay_lag_seconds);
  keep(samples.sqlLag, metrics.hot_sql_read_lag_events);
  if (previous) {
    const seconds = (now - previous.now) / 1000;
    const rate = (name) => (metrics[name] === undefined ? undefined : Math.max(0, metrics[name] - (previous.metrics[name] || 0)) / seconds);
    keep(samples.throughput, rate("hot_relay_published_events_total"));
    keep(samples.commands, rate("hot_commands_total"));
  }
  previous = { now, metrics };
}

export function operationsPage(page) {
  const health = el("div", { id: "health" });
  const projections = el("div", { id: "projections" });
  const charts = el("div", { id: "charts", class: "charts-grid" });
  page.append(el("h1", {}, "Operations"), el("h2", {}, "Health"), health,
    el("h2", {}, "Projections and their lag"), projections,
    el("h2", {}, "Relay, last ten minutes"), charts);

  async function sample() {
    const now = Date.now();
    try {
      // 200 ready, 503 not: either way the body says which check failed.
      showHealth(await fetch("/health/ready").then((response) => response.json()));
    } catch (error) {
      health.replaceChildren(problemBox(error));
    }
    try {
      record(parseMetrics(await text("/metrics")), now);
      charts.replaceChildren(
        lineChart("relay lag", samples.lag, SPAN_MS, " events"),
        lineChart("relay lag", samples.lagSeconds, SPAN_MS, " s"),
        lineChart("relay throughput", samples.throughput, SPAN_MS, " events/s"),
        lineChart("commands", samples.commands, SPAN_MS, " /s"),
        lineChart("hot_read lag", samples.sqlLag, SPAN_MS, " events"));
    } catch (error) {
      charts.replaceChildren(el("p", { class: "muted" }, "No metrics (HOT_METRICS=off, or served on HOT_METRICS_PORT)."), problemBox(error));
    }
  }

  function showHealth(ready) {
    health.replaceChildren(el("p", {}, "Status: ", el("strong", { id: "health-status" }, ready.status)),
      el("table", { class: "state" }, Object.entries(ready.checks).map(([name, check]) =>
        el("tr", {}, el("th", {}, name), el("td", { class: check.ok ? "ok" : "bad" }, check.ok ? "ok" : "down"),
          el("td", {}, check.detail || ""), el("td", {}, check.info && name === "postgres" ? `log head ${check.info.head}` : "")))));
    const parts = [["relay (Redis streams)", ready.checks.relay, "published"], ["hot_read (SQL)", ready.checks.sql_read, "position"]];
    projections.replaceChildren(el("table", { class: "state" },
      el("tr", {}, ["projection", "state", "position", "lag (events)", "caught up"].map((h) => el("th", {}, h))),
      parts.filter(([, check]) => check && check.info).map(([name, check, at]) => el("tr", { "data-projection": name },
        el("td", {}, name), el("td", {}, check.info.state), el("td", {}, check.info[at]),
        el("td", { class: "lag" }, check.info.lag), el("td", {}, check.info.caught_up ? "yes" : "no")))),
    el("details", {}, el("summary", {}, "as /health/ready says"), json(ready)));
  }

  sample();
  const timer = setInterval(sample, EVERY_MS);
  return () => clearInterval(timer);
}
