// The console's only way to the server: HoT's JSON API, with the token of the tab.
const TOKEN = "hot-token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN),
  set: (value) => sessionStorage.setItem(TOKEN, value),
  clear: () => sessionStorage.removeItem(TOKEN),
};

// A refused call: the RFC 9457 problem the API answered (title, detail, status...).
export class Problem extends Error {
  constructor(problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.problem = problem;
  }
}

async function refused(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return new Problem({
      title: body.title || response.statusText,
      detail: body.detail || "",
      status: body.status || response.status,
      type: body.type,
      rule: body.rule,
    });
  } catch {
    return new Problem({ title: response.statusText || "Error", detail: text, status: response.status });
  }
}

// GET or POST a path of the API as the signed-in token; the parsed JSON, or a Problem.
export async function call(path, { method = "GET", body, bearer = token.get(), headers = {} } = {}) {
  const sent = { method, headers: { Accept: "application/json", ...headers } };
  if (bearer) sent.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    sent.headers["Content-Type"] = "application/json";
    sent.body = JSON.stringify(body);
  }
  const response = await fetch(path, sent);
  if (!response.ok) throw await refused(response);
  return response.json();
}

// The text of a path (the metrics), without a token.
export async function text(path) {
  const response = await fetch(path);
  if (!response.ok) throw await refused(response);
  return response.text();
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.append(key, value);
  }
  return search.toString();
}
