/**
 * Anthropic's web fetch server tool on the wire (see docs/web-search.md). The upstream offers no
 * way to fetch a page, so every call of the tool ends in an `unavailable` error result:
 *
 *  - decodeWebFetchTool: a `tools[]` entry `{type: "web_fetch_20250910" (or a later
 *    web_fetch_YYYYMMDD), name: "web_fetch", max_uses?, allowed_domains?, blocked_domains?,
 *    citations?, max_content_tokens?, …}` → the canonical ServerToolRequest, or a 400 naming the
 *    field. The limits are accepted and have no effect (nothing is fetched).
 *  - Blocks, as the Messages API sends them:
 *      server_tool_use       {type, id: "srvtoolu_…", name: "web_fetch", input: {url}, caller}
 *      web_fetch_tool_result {type, tool_use_id, content: {type: "web_fetch_tool_result_error",
 *                             error_code: "unavailable"}, caller}
 *    Streaming: server_tool_use starts with `input: {}` and gets its input as one
 *    input_json_delta; the result arrives whole in content_block_start.
 *  - fetchBlockAsText: such blocks coming back in a request's history, as text the upstream model
 *    can read.
 */
import type { ServerToolRequest } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import type { WebFetchEvent } from "../../core/web-fetch";

const TYPE_RE = /^web_fetch_\d{8}$/;
const KNOWN_KEYS = new Set([
  "type",
  "name",
  "max_uses",
  "allowed_domains",
  "blocked_domains",
  "citations",
  "max_content_tokens",
  "url_sources",
  "use_cache",
  "response_inclusion",
  "cache_control",
  "allowed_callers",
  "defer_loading",
  "strict",
]);
const DIRECT = { type: "direct" };

export function isWebFetchToolType(type: unknown): boolean {
  return typeof type === "string" && TYPE_RE.test(type);
}

function bad(message: string, param: string): TurnError {
  return new TurnError("invalid_request", message, { param });
}

function checkDomains(v: unknown, param: string): boolean {
  if (v === undefined || v === null) return false;
  if (!Array.isArray(v) || v.some((d) => typeof d !== "string" || d.trim() === "")) throw bad(`${param}: must be an array of non-empty domain strings`, param);
  return v.length > 0;
}

/** `tools[index]` of a Messages request → ServerToolRequest (throws a 400 TurnError naming the field). */
export function decodeWebFetchTool(tool: unknown, index: number): ServerToolRequest {
  const at = `tools.${index}`;
  if (typeof tool !== "object" || tool === null || Array.isArray(tool)) throw bad(`${at}: must be an object`, at);
  const t = tool as Record<string, unknown>;
  if (!isWebFetchToolType(t.type)) throw bad(`${at}.type: not a web fetch tool type`, `${at}.type`);
  if (t.name !== "web_fetch") throw bad(`${at}.name: must be "web_fetch" for ${String(t.type)}`, `${at}.name`);
  for (const k of Object.keys(t)) if (!KNOWN_KEYS.has(k)) throw bad(`${at}.${k}: Extra inputs are not permitted`, `${at}.${k}`);
  for (const k of ["max_uses", "max_content_tokens"]) {
    const v = t[k];
    if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isInteger(v) || v < 1)) throw bad(`${at}.${k}: must be a positive integer`, `${at}.${k}`);
  }
  const allowed = checkDomains(t.allowed_domains, `${at}.allowed_domains`);
  const blocked = checkDomains(t.blocked_domains, `${at}.blocked_domains`);
  if (allowed && blocked) throw bad(`${at}: allowed_domains and blocked_domains cannot be used together`, `${at}.allowed_domains`);
  return { type: "web_fetch", name: "web_fetch", version: t.type as string };
}

/** One event → its content block (non-stream responses). */
export function webFetchBlockJson(ev: WebFetchEvent): Record<string, unknown> {
  switch (ev.type) {
    case "web_fetch_call":
      return { type: "server_tool_use", id: ev.id, name: "web_fetch", input: ev.input, caller: DIRECT };
    case "web_fetch_error":
      return {
        type: "web_fetch_tool_result",
        tool_use_id: ev.toolUseId,
        content: { type: "web_fetch_tool_result_error", error_code: ev.code },
        caller: DIRECT,
      };
  }
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One event → the complete SSE frames of its block at `index` (start, deltas, stop). */
export function webFetchBlockSse(ev: WebFetchEvent, index: number): string {
  const stop = sse("content_block_stop", { type: "content_block_stop", index });
  if (ev.type === "web_fetch_error") return sse("content_block_start", { type: "content_block_start", index, content_block: webFetchBlockJson(ev) }) + stop;
  return (
    sse("content_block_start", { type: "content_block_start", index, content_block: { ...webFetchBlockJson(ev), input: {} } }) +
    sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(ev.input) } }) +
    stop
  );
}

/**
 * A web fetch block from a request's assistant history, as text for the upstream model;
 * undefined when the block is not a web fetch block.
 */
export function fetchBlockAsText(block: unknown): string | undefined {
  if (typeof block !== "object" || block === null) return undefined;
  const b = block as Record<string, unknown>;
  if (b.type === "server_tool_use" && b.name === "web_fetch") {
    const url = (b.input as { url?: unknown } | undefined)?.url;
    return `[Asked to fetch the web page ${typeof url === "string" ? url : ""}.]`;
  }
  if (b.type !== "web_fetch_tool_result") return undefined;
  const c = (b.content ?? {}) as Record<string, unknown>;
  if (c.type === "web_fetch_result") {
    // A page fetched elsewhere (a conversation begun on another server): its text, when it is text.
    const source = (c.content as { source?: { type?: unknown; data?: unknown } } | undefined)?.source;
    const text = source?.type === "text" && typeof source.data === "string" ? `\n${source.data}` : "";
    return `[Fetched ${typeof c.url === "string" ? c.url : "a web page"}.]${text}`;
  }
  const code = typeof c.error_code === "string" ? c.error_code : "error";
  return code === "unavailable"
    ? "[The web fetch failed: unavailable. Fetching web pages is not available through this server.]"
    : `[The web fetch failed: ${code}.]`;
}
