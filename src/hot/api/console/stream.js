// The live feed (GET /events/stream, Server-Sent Events) read with fetch, so that the
// token goes in the Authorization header, never in a URL; it resumes where it was
// (Last-Event-ID) when the connection drops, as an EventSource would.
import { token } from "./api.js";

const RETRY_MS = 2000;

// Calls onEvent(event) for each event, onState(text) when the connection changes;
// returns a function that stops it.
export function follow(onEvent, onState) {
  const stop = new AbortController();
  let last = null;

  async function read() {
    const headers = { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" };
    if (last !== null) headers["Last-Event-ID"] = last;
    const response = await fetch("/events/stream", { headers, signal: stop.signal });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    onState("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = ""; // what has come, lines ended by "\n"
    let carry = ""; // a "\r" at the end of a chunk: its "\n" may come in the next
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // Lines end with CRLF, LF or CR (HoT's server sends CRLF): read each as LF.
      const chunk = carry + value;
      carry = chunk.endsWith("\r") ? "\r" : "";
      buffer += chunk.slice(0, chunk.length - carry.length).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = [];
        for (const line of message.split("\n")) {
          if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          else if (line.startsWith("id:")) last = line.slice(3).trim();
        }
        if (data.length) onEvent(JSON.parse(data.join("\n")));
      }
    }
  }

  (async () => {
    while (!stop.signal.aborted) {
      try {
        await read();
      } catch (error) {
        if (stop.signal.aborted) return;
        onState(`reconnecting (${error.message})`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  })();
  return () => stop.abort();
}
