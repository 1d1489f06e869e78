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
import { buildKiroRequest } from "../../src/kiro/request/build";
import { kiroHeaders } from "../../src/kiro/request/headers";
import { ModelCatalog } from "../../src/core/models";

const apiUrl = process.env.PT_API_URL;
const accessToken = process.env.PT_ACCESS_TOKEN;
if (!apiUrl || !accessToken) throw new Error("PT_API_URL and PT_ACCESS_TOKEN are required");
const upstream = `${apiUrl.replace("{region}", "us-east-1")}/generateAssistantResponse`;

// A well-formed upstream body, built once; each request only swaps the user's text in.
const MARK = "\u0000prompt\u0000";
const template = buildKiroRequest({
  model: new ModelCatalog({ fallback: "family" }).resolve("claude-sonnet-4-5"),
  system: "",
  messages: [{ role: "user", content: [{ type: "text", text: MARK }] }],
  tools: [],
  maxTokens: 32000,
  stopSequences: [],
  thinking: { type: "disabled" },
  metadata: { dialect: "anthropic" },
}).json;
const at = template.indexOf(JSON.stringify(MARK).slice(1, -1));
if (at < 0) throw new Error("prompt slot not found in the upstream body");
const before = template.slice(0, at);
const after = template.slice(at + JSON.stringify(MARK).length - 2);
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
      body: before + JSON.stringify(lastText(body)).slice(1, -1) + after,
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
