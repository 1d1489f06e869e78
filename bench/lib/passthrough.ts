/**
 * The floor bench/stream.ts compares kiro-server with, in its own process: a Bun server that reads
 * the client's JSON, sends the upstream a request carrying the client's last message, and relays
 * the upstream's bytes untouched. Everything a proxy cannot avoid (parse the client's JSON, one
 * upstream call, relay every byte) and nothing else.
 *
 *   PT_API_URL=… PT_ACCESS_TOKEN=… bun bench/lib/passthrough.ts
 *
 * Prints one JSON line {port} once listening.
 */
import { kiroHeaders } from "../../src/kiro/request/headers";
import { promptTemplate } from "./upstream-template";

const apiUrl = process.env.PT_API_URL;
const accessToken = process.env.PT_ACCESS_TOKEN;
if (!apiUrl || !accessToken) throw new Error("PT_API_URL and PT_ACCESS_TOKEN are required");
const upstream = `${apiUrl.replace("{region}", "us-east-1")}/generateAssistantResponse`;

// A well-formed upstream body, built once; each request only swaps the user's text in.
const template = promptTemplate();
const headers = kiroHeaders({ accessToken, machineId: "0".repeat(64), authKind: "social" });

type ClientBody = { messages?: Array<{ content?: unknown }>; input?: unknown };

/** The text of the client's last message (string content, or its text blocks). */
function lastText(b: ClientBody): string {
  const c = b.messages?.at(-1)?.content ?? b.input;
  if (typeof c === "string") return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  return "";
}

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const body = (await req.json()) as ClientBody;
    const up = await fetch(upstream, {
      method: "POST",
      headers,
      body: template.body(lastText(body)),
      signal: req.signal,
    });
    return new Response(up.body, { status: up.status, headers: { "content-type": up.headers.get("content-type") ?? "application/octet-stream" } });
  },
});
console.log(JSON.stringify({ port: server.port }));
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
