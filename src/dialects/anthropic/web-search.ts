/**
 * Anthropic's web search server tool on the wire (see docs/web-search.md):
 *
 *  - decodeWebSearchTool: a `tools[]` entry `{type: "web_search_20250305" (or a later
 *    web_search_YYYYMMDD), name: "web_search", max_uses?, allowed_domains?, blocked_domains?,
 *    user_location?}` → the canonical ServerToolRequest, or a 400 naming the field.
 *  - Blocks, as the Messages API sends them:
 *      server_tool_use        {type, id: "srvtoolu_…", name: "web_search", input: {query}, caller}
 *      web_search_tool_result {type, tool_use_id, content: [web_search_result…] | {type:
 *                              "web_search_tool_result_error", error_code}, caller}
 *      web_search_result      {type, url, title, encrypted_content, page_age}
 *      text with citations    {type: "text", text, citations: [{type: "web_search_result_location",
 *                              url, title, cited_text, encrypted_index}]}
 *    Streaming: server_tool_use starts with `input: {}` and gets its input as one
 *    input_json_delta; a web_search_tool_result arrives whole in content_block_start; a cited
 *    text block starts empty, then one citations_delta per citation, then its text_delta.
 *  - usage.server_tool_use = {web_search_requests, web_fetch_requests}.
 *  - serverBlockAsText: such blocks coming back in a request's history, as text the upstream
 *    model can read (the upstream has no server-tool blocks); web fetch blocks too.
 *  Web fetch (declared, always answered `unavailable`) is ./web-fetch.ts; the two block
 *  functions here route its events there.
 *
 * `encrypted_content` and `encrypted_index` are opaque to clients. Ours are "ks1." + base64url
 * JSON of what the text needs when the block comes back in history (title, URL, snippet).
 */
import type { ServerToolRequest } from "../../core/canonical";
import { TurnError } from "../../core/errors";
import type { WebFetchEvent } from "../../core/web-fetch";
import type { WebCitation, WebSearchEvent, WebSearchHit } from "../../core/web-search";
import { fetchBlockAsText, webFetchBlockJson, webFetchBlockSse } from "./web-fetch";

const TYPE_RE = /^web_search_\d{8}$/;
const OPAQUE_PREFIX = "ks1.";
const KNOWN_KEYS = new Set(["type", "name", "max_uses", "allowed_domains", "blocked_domains", "user_location", "cache_control", "allowed_callers", "defer_loading", "strict"]);

export function isWebSearchToolType(type: unknown): boolean {
  return typeof type === "string" && TYPE_RE.test(type);
}

function bad(message: string, param: string): TurnError {
  return new TurnError("invalid_request", message, { param });
}

function domainList(v: unknown, param: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((d) => typeof d !== "string" || d.trim() === "")) {
    throw bad(`${param}: must be an array of non-empty domain strings`, param);
  }
  return v as string[];
}

/** `tools[index]` of a Messages request → ServerToolRequest (throws a 400 TurnError naming the field). */
export function decodeWebSearchTool(tool: unknown, index: number): ServerToolRequest {
  const at = `tools.${index}`;
  if (typeof tool !== "object" || tool === null || Array.isArray(tool)) throw bad(`${at}: must be an object`, at);
  const t = tool as Record<string, unknown>;
  if (!isWebSearchToolType(t.type)) throw bad(`${at}.type: not a web search tool type`, `${at}.type`);
  if (t.name !== "web_search") throw bad(`${at}.name: must be "web_search" for ${String(t.type)}`, `${at}.name`);
  for (const k of Object.keys(t)) if (!KNOWN_KEYS.has(k)) throw bad(`${at}.${k}: Extra inputs are not permitted`, `${at}.${k}`);
  let maxUses: number | undefined;
  if (t.max_uses !== undefined && t.max_uses !== null) {
    if (typeof t.max_uses !== "number" || !Number.isInteger(t.max_uses) || t.max_uses < 1) {
      throw bad(`${at}.max_uses: must be a positive integer`, `${at}.max_uses`);
    }
    maxUses = t.max_uses;
  }
  const allowedDomains = domainList(t.allowed_domains, `${at}.allowed_domains`);
  const blockedDomains = domainList(t.blocked_domains, `${at}.blocked_domains`);
  if (allowedDomains?.length && blockedDomains?.length) {
    throw bad(`${at}: allowed_domains and blocked_domains cannot be used together`, `${at}.allowed_domains`);
  }
  // user_location is accepted and has no effect: Kiro's search takes only a query.
  return {
    type: "web_search",
    name: "web_search",
    version: t.type as string,
    ...(maxUses !== undefined ? { maxUses } : {}),
    ...(allowedDomains?.length ? { allowedDomains } : {}),
    ...(blockedDomains?.length ? { blockedDomains } : {}),
  };
}

// ------------------------------------------------------------------------------- opaque fields

function opaque(v: Record<string, string>): string {
  return OPAQUE_PREFIX + Buffer.from(JSON.stringify(v)).toString("base64url");
}

/** Our own opaque value back to its fields (undefined for anything we did not make). */
export function readOpaque(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "string" || !v.startsWith(OPAQUE_PREFIX)) return undefined;
  try {
    const o: unknown = JSON.parse(Buffer.from(v.slice(OPAQUE_PREFIX.length), "base64url").toString("utf8"));
    return o && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/** "April 30, 2025", the form the API gives page_age in; null when unknown. */
function pageAge(ms: number | undefined): string | null {
  if (ms === undefined || !Number.isFinite(ms)) return null;
  return new Date(ms).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

function resultJson(h: WebSearchHit): Record<string, unknown> {
  return {
    type: "web_search_result",
    url: h.url,
    title: h.title,
    encrypted_content: opaque({ u: h.url, t: h.title, s: h.snippet ?? "" }),
    page_age: pageAge(h.publishedDate),
  };
}

function citationJson(c: WebCitation): Record<string, unknown> {
  return {
    type: "web_search_result_location",
    url: c.url,
    title: c.title,
    cited_text: c.citedText,
    encrypted_index: opaque({ u: c.url, c: c.citedText }),
  };
}

const DIRECT = { type: "direct" };

// ------------------------------------------------------------------------------- non-stream

/** One event → its content block (non-stream responses); web fetch blocks are ./web-fetch.ts's. */
export function webSearchBlockJson(ev: WebSearchEvent | WebFetchEvent): Record<string, unknown> {
  switch (ev.type) {
    case "web_fetch_call":
    case "web_fetch_error":
      return webFetchBlockJson(ev);
    case "server_tool_use":
      return { type: "server_tool_use", id: ev.id, name: ev.name, input: ev.input, caller: DIRECT };
    case "web_search_result":
      return { type: "web_search_tool_result", tool_use_id: ev.toolUseId, content: ev.hits.map(resultJson), caller: DIRECT };
    case "web_search_error":
      return {
        type: "web_search_tool_result",
        tool_use_id: ev.toolUseId,
        content: { type: "web_search_tool_result_error", error_code: ev.code },
        caller: DIRECT,
      };
    case "cited_text":
      return { type: "text", text: ev.text, citations: ev.citations.length ? ev.citations.map(citationJson) : null };
  }
}

/** usage.server_tool_use for an answer that ran `searches` searches. */
export function serverToolUsageJson(searches: number): { web_search_requests: number; web_fetch_requests: number } {
  return { web_search_requests: searches, web_fetch_requests: 0 };
}

// ------------------------------------------------------------------------------- stream

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One event → the complete SSE frames of its block at `index` (start, deltas, stop). The
 * caller owns the index sequence (blocks are numbered 0, 1, 2 … across the whole message).
 */
export function webSearchBlockSse(ev: WebSearchEvent | WebFetchEvent, index: number): string {
  if (ev.type === "web_fetch_call" || ev.type === "web_fetch_error") return webFetchBlockSse(ev, index);
  const stop = sse("content_block_stop", { type: "content_block_stop", index });
  const start = (block: unknown) => sse("content_block_start", { type: "content_block_start", index, content_block: block });
  const delta = (d: unknown) => sse("content_block_delta", { type: "content_block_delta", index, delta: d });
  switch (ev.type) {
    case "server_tool_use":
      return (
        start({ type: "server_tool_use", id: ev.id, name: ev.name, input: {}, caller: DIRECT }) +
        delta({ type: "input_json_delta", partial_json: JSON.stringify(ev.input) }) +
        stop
      );
    case "web_search_result":
    case "web_search_error":
      return start(webSearchBlockJson(ev)) + stop;
    case "cited_text": {
      let s = start({ type: "text", text: "" });
      for (const c of ev.citations) s += delta({ type: "citations_delta", citation: citationJson(c) });
      if (ev.text) s += delta({ type: "text_delta", text: ev.text });
      return s + stop;
    }
  }
}

// ------------------------------------------------------------------------------- history

/**
 * A server-tool block from a request's assistant history, as text for the upstream model;
 * undefined when the block is not one of ours to translate.
 */
export function serverBlockAsText(block: unknown): string | undefined {
  if (typeof block !== "object" || block === null) return undefined;
  const fetched = fetchBlockAsText(block);
  if (fetched !== undefined) return fetched;
  const b = block as Record<string, unknown>;
  if (b.type === "server_tool_use" && b.name === "web_search") {
    const q = (b.input as { query?: unknown } | undefined)?.query;
    return `[Searched the web for "${typeof q === "string" ? q : ""}".]`;
  }
  if (b.type !== "web_search_tool_result") return undefined;
  if (!Array.isArray(b.content)) {
    const code = (b.content as { error_code?: unknown } | undefined)?.error_code;
    return `[The web search failed: ${typeof code === "string" ? code : "error"}.]`;
  }
  const lines = (b.content as Array<Record<string, unknown>>).map((r, i) => {
    const mine = readOpaque(r.encrypted_content);
    const snippet = mine?.s ? `\n${mine.s}` : "";
    return `[${i + 1}] ${String(r.title ?? "")}\nURL: ${String(r.url ?? "")}${snippet}`;
  });
  return lines.length ? `[Web search results:]\n${lines.join("\n\n")}` : "[The web search found no results.]";
}
