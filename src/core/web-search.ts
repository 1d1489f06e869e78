/**
 * The web search server tool, independent of any wire format (see docs/web-search.md).
 *
 * A request that declares the tool (CanonicalRequest.serverTools) is served in one of two modes:
 *  - direct: the client forces the tool (tool_choice names it, or "any" with no client tools),
 *    or sends Claude Code's WebSearch sub-request (one user message "Perform a web search for the
 *    query: …" and the search tool alone: older versions force the tool, newer ones leave the
 *    choice "auto" and ask for a search and a summary). The query is the user's text;
 *    kiro-server searches once and answers with the results and a cited digest of them, without
 *    asking the model (no model round to decide on the one search the request is for).
 *  - model: the tool is declared to the model as an ordinary function tool; when the model calls
 *    it, the turn runner searches, shows the client the server-tool blocks, feeds the results
 *    back as a tool result and lets the model continue — at most `maxUses` searches.
 *
 * This module decides the mode and the query, filters results by domain, counts uses, and
 * produces WebSearchEvents; the runner does the searching (src/kiro/mcp.ts) and the dialects
 * encode the events. It imports only src/core.
 */
import type {
  AssistantPart,
  CanonicalEvent,
  CanonicalMessage,
  CanonicalRequest,
  ServerToolRequest,
  ToolDefinition,
  UserPart,
  WebSearchErrorCode,
  WebSearchEvent,
  WebSearchHit,
} from "./canonical";
import { planWebFetch, type WebFetchPlan } from "./web-fetch";

export type { WebCitation, WebSearchErrorCode, WebSearchEvent, WebSearchHit } from "./canonical";

/** What a search produced, as the runner reports it (the MCP client's outcome, mapped). */
export type SearchOutcome = { ok: true; hits: WebSearchHit[] } | { ok: false; code: WebSearchErrorCode; message: string };

/** The prefix Claude Code's WebSearch tool puts before the query in its sub-request. */
export const CLAUDE_CODE_SEARCH_PREFIX = "Perform a web search for the query: ";
/** Longest cited text (Anthropic cites at most 150 characters of a result). */
const CITED_TEXT_MAX = 150;

/**
 * How a request with server tools is served. Model mode offers the model web search, and web
 * fetch too when the request declares it (`fetch`, src/core/web-fetch.ts); `fetch_only` is model
 * mode for a request that declares web fetch without web search.
 */
export type WebSearchPlan =
  | { mode: "direct"; tool: ServerToolRequest; query: string }
  /** `forceFirst`: the model must call the search in its first round (a forced search it answers). */
  | { mode: "model"; tool: ServerToolRequest; declaration: ToolDefinition; forceFirst?: boolean; fetch?: WebFetchPlan }
  | { mode: "fetch_only"; fetch: WebFetchPlan };

export function webSearchTool(req: CanonicalRequest): ServerToolRequest | undefined {
  return req.serverTools?.find((t) => t.type === "web_search");
}

function lastUserText(req: CanonicalRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role !== "user") continue;
    return m.content.map((p) => (p.type === "text" ? p.text : "")).join("\n").trim();
  }
  return "";
}

/** The query of a forced search: the user's last text, without Claude Code's prefix. */
export function directQuery(req: CanonicalRequest): string {
  const text = lastUserText(req);
  return (text.startsWith(CLAUDE_CODE_SEARCH_PREFIX) ? text.slice(CLAUDE_CODE_SEARCH_PREFIX.length) : text).trim();
}

/** The function tool the model sees in model mode. */
export function webSearchDeclaration(tool: ServerToolRequest): ToolDefinition {
  const scope = tool.allowedDomains?.length
    ? ` Only results from ${tool.allowedDomains.join(", ")} are returned.`
    : tool.blockedDomains?.length
      ? ` Results from ${tool.blockedDomains.join(", ")} are never returned.`
      : "";
  return {
    name: tool.name,
    description:
      "Search the web for current information. Returns the title, URL and a snippet of each matching page. " +
      "Use it for facts that may have changed after your training or that you are unsure of; cite the URLs you use." +
      scope,
    inputSchema: {
      type: "object",
      properties: { query: { type: "string", description: "The search query" } },
      required: ["query"],
    },
  };
}

/**
 * How to serve the request's web search and web fetch tools, or undefined when it declares
 * neither. Throws nothing: a forced search with no text gets the query "" and ends in an
 * invalid_tool_input result, as the real API reports a bad query inside the answer. "any" with
 * no client tools forces the search only when web fetch is not declared too (otherwise the
 * model chooses).
 */
export function planWebSearch(req: CanonicalRequest): WebSearchPlan | undefined {
  const tool = webSearchTool(req);
  const fetch = planWebFetch(req);
  if (!tool) return fetch ? { mode: "fetch_only", fetch } : undefined;
  const choice = req.toolChoice;
  const forced = (choice?.type === "tool" && choice.name === tool.name) || (choice?.type === "any" && req.tools.length === 0 && !fetch) || isSearchSubRequest(req, fetch);
  if (forced && tool.forcedAnswer === "model") return { mode: "model", tool, declaration: webSearchDeclaration(tool), forceFirst: true, ...(fetch ? { fetch } : {}) };
  if (forced) return { mode: "direct", tool, query: directQuery(req) };
  return { mode: "model", tool, declaration: webSearchDeclaration(tool), ...(fetch ? { fetch } : {}) };
}

/**
 * Claude Code's WebSearch sub-request, whatever its tool_choice ("none" aside): a single user
 * message starting with its prefix, no client tools, no web fetch. The request exists only to run
 * that one search.
 */
function isSearchSubRequest(req: CanonicalRequest, fetch: WebFetchPlan | undefined): boolean {
  if (fetch || req.tools.length > 0 || req.toolChoice?.type === "none") return false;
  const only = req.messages.length === 1 ? req.messages[0]! : undefined;
  return only?.role === "user" && lastUserText(req).startsWith(CLAUDE_CODE_SEARCH_PREFIX);
}

/**
 * A name for a server tool that no client tool uses: `base`, else `base_2`, `base_3` … The
 * OpenAI APIs declare web search without a name, so the model-facing name is ours to choose.
 */
export function freeToolName(base: string, tools: readonly ToolDefinition[]): string {
  const taken = new Set(tools.map((t) => t.name));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}_${n}`)) n++;
  return `${base}_${n}`;
}

/** A client tool with the server tool's name makes the request ambiguous (the API refuses it). */
export function conflictingToolName(req: CanonicalRequest): string | undefined {
  const names = new Set((req.serverTools ?? []).map((t) => t.name));
  return req.tools.find((t) => names.has(t.name))?.name;
}

// ------------------------------------------------------------------------------- domains

/** `example.com`, `https://Example.com/`, `example.com/blog` → host + path prefix, lower case. */
function parseDomain(d: string): { host: string; path: string } {
  const bare = d.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, "");
  const slash = bare.indexOf("/");
  const host = (slash < 0 ? bare : bare.slice(0, slash)).replace(/^\*\./, "").replace(/\.$/, "");
  const path = slash < 0 ? "" : bare.slice(slash).replace(/\/+$/, "");
  return { host, path };
}

/** True when `url` is on `domain`: the host or a subdomain of it, and under its path if one is given. */
export function urlMatchesDomain(url: string, domain: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const { host, path } = parseDomain(domain);
  if (!host) return false;
  const h = u.hostname.toLowerCase();
  if (h !== host && !h.endsWith("." + host)) return false;
  if (!path) return true;
  const p = u.pathname.toLowerCase();
  return p === path || p.startsWith(path + "/");
}

/** The tool's allowed / blocked domains applied to the hits (order kept). */
export function filterHits(hits: readonly WebSearchHit[], tool: ServerToolRequest): WebSearchHit[] {
  const allowed = tool.allowedDomains?.filter((d) => d.trim()) ?? [];
  const blocked = tool.blockedDomains?.filter((d) => d.trim()) ?? [];
  return hits.filter(
    (h) => (allowed.length === 0 || allowed.some((d) => urlMatchesDomain(h.url, d))) && !blocked.some((d) => urlMatchesDomain(h.url, d)),
  );
}

// ------------------------------------------------------------------------------- uses

/** Counts searches against max_uses (every search that was let through, whatever its outcome). */
export class WebSearchBudget {
  used = 0;
  constructor(private readonly maxUses?: number) {}
  /** True once max_uses searches were taken. */
  get exhausted(): boolean {
    return this.maxUses !== undefined && this.used >= this.maxUses;
  }
  /** True when one more search may run (and counts it). */
  take(): boolean {
    if (this.maxUses !== undefined && this.used >= this.maxUses) return false;
    this.used++;
    return true;
  }
}

export function newServerToolUseId(): string {
  return "srvtoolu_" + Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
}

// ------------------------------------------------------------------------------- events

/** The two blocks of one search: the call, then its result or error. */
export function searchEvents(id: string, query: string, outcome: SearchOutcome, tool: ServerToolRequest): WebSearchEvent[] {
  const use: WebSearchEvent = { type: "server_tool_use", id, name: "web_search", input: { query } };
  if (!outcome.ok) return [use, { type: "web_search_error", toolUseId: id, code: outcome.code, message: outcome.message }];
  return [use, { type: "web_search_result", toolUseId: id, hits: filterHits(outcome.hits, tool) }];
}

/** At most CITED_TEXT_MAX characters, cut at a word boundary. */
export function citedText(snippet: string): string {
  const s = snippet.replace(/\s+/g, " ").trim();
  if (s.length <= CITED_TEXT_MAX) return s;
  const cut = s.slice(0, CITED_TEXT_MAX);
  const space = cut.lastIndexOf(" ");
  return (space > CITED_TEXT_MAX / 2 ? cut.slice(0, space) : cut).trimEnd();
}

function dateOf(ms: number | undefined): string {
  return ms === undefined ? "" : ` (${new Date(ms).toISOString().slice(0, 10)})`;
}

/**
 * Direct mode's answer after the search blocks: a lead-in, then one cited paragraph per hit.
 * The paragraphs name title and URL in the text too: clients that drop citations (Claude
 * Code's WebSearch passes only text and links on to its model) still carry the sources.
 */
export function digestEvents(query: string, result: WebSearchEvent): WebSearchEvent[] {
  if (result.type === "web_search_error") {
    return [{ type: "cited_text", text: `The web search for "${query}" failed (${result.code}): ${result.message}`, citations: [] }];
  }
  if (result.type !== "web_search_result") return [];
  if (result.hits.length === 0) return [{ type: "cited_text", text: `The web search for "${query}" found no results.`, citations: [] }];
  const out: WebSearchEvent[] = [{ type: "cited_text", text: `Web search results for "${query}":\n\n`, citations: [] }];
  result.hits.forEach((h, i) => {
    const snippet = h.snippet?.trim() ?? "";
    const text = `${i + 1}. ${h.title} — ${h.url}${dateOf(h.publishedDate)}\n${snippet ? snippet + "\n" : ""}\n`;
    out.push({ type: "cited_text", text, citations: snippet ? [{ url: h.url, title: h.title, citedText: citedText(snippet) }] : [] });
  });
  return out;
}

/** The tool result the model reads in model mode (plain text: the upstream takes text results). */
export function resultTextForModel(query: string, result: WebSearchEvent): string {
  if (result.type === "web_search_error") {
    return result.code === "max_uses_exceeded"
      ? `Web search refused: the limit of searches for this answer is reached. Answer with what you already found.`
      : `Web search for "${query}" failed (${result.code}): ${result.message}`;
  }
  if (result.type !== "web_search_result") return "";
  if (result.hits.length === 0) return `Web search for "${query}" found no results.`;
  const lines = result.hits.map((h, i) => `[${i + 1}] ${h.title}\nURL: ${h.url}${dateOf(h.publishedDate)}\n${h.snippet?.trim() ?? ""}`);
  return `Web search results for "${query}":\n\n${lines.join("\n\n")}\n\nCite the URLs of the results you use.`;
}

// ------------------------------------------------------------------------------- model mode

/** A captured server-tool call; `name` tells web search from web fetch. */
export type InterceptedCall = { id: string; query: string; input: unknown; name: string };

/**
 * Model mode, one upstream round: passes every event through except the model's calls of the
 * web search function tool, which it captures (with their input JSON) for the runner to run.
 * It also records this round's assistant content, which the continuation needs. The round's
 * `stop` is passed through too; the runner drops it when it continues with another round.
 */
export class WebSearchInterceptor {
  readonly calls: InterceptedCall[] = [];
  /** Client tool calls relayed in this round (their presence ends the turn with tool_use). */
  clientCalls = 0;
  private readonly parts: AssistantPart[] = [];
  private current?: { id: string; json: string; search: boolean; name: string };

  private readonly toolNames: ReadonlySet<string>;

  /** `toolName`: the names of the function tools that stand for server tools. */
  constructor(toolName: string | readonly string[]) {
    this.toolNames = new Set(typeof toolName === "string" ? [toolName] : toolName);
  }

  feed(ev: CanonicalEvent): CanonicalEvent[] {
    switch (ev.type) {
      case "text": {
        const last = this.parts.at(-1);
        if (last?.type === "text") last.text += ev.text;
        else this.parts.push({ type: "text", text: ev.text });
        return [ev];
      }
      case "thinking": {
        const last = this.parts.at(-1);
        if (last?.type === "thinking") {
          last.text += ev.text;
          if (ev.signature) last.signature = ev.signature;
        } else this.parts.push(ev.signature ? { type: "thinking", text: ev.text, signature: ev.signature } : { type: "thinking", text: ev.text });
        return [ev];
      }
      case "tool_start":
        this.current = { id: ev.id, json: "", search: this.toolNames.has(ev.name), name: ev.name };
        return this.current.search ? [] : [ev];
      case "tool_args":
        if (this.current?.id === ev.id) this.current.json += ev.json;
        return this.current?.search ? [] : [ev];
      case "tool_end": {
        const c = this.current;
        this.current = undefined;
        if (!c || c.id !== ev.id) return [ev];
        let input: unknown = {};
        try {
          input = c.json ? JSON.parse(c.json) : {};
        } catch {
          input = {};
        }
        this.parts.push({ type: "tool_use", id: c.id, name: c.name, input });
        if (!c.search) {
          this.clientCalls++;
          return [ev];
        }
        const q = (input as { query?: unknown })?.query;
        this.calls.push({ id: c.id, query: typeof q === "string" ? q.trim() : "", input, name: c.name });
        return [];
      }
      default:
        return [ev];
    }
  }

  /** This round's assistant content (text, thinking and every tool call, in order). */
  assistantParts(): AssistantPart[] {
    return this.parts.map((p) => ({ ...p }));
  }
}

/**
 * The request for the next round: the history plus this round's assistant message and one user
 * message with a tool result per search call (client tool calls never reach here: they end the
 * turn). `results` pairs each intercepted call with what the model should read.
 */
export function continueWithResults(
  req: CanonicalRequest,
  assistant: AssistantPart[],
  results: Array<{ call: InterceptedCall; text: string; isError: boolean }>,
): CanonicalRequest {
  const toolResults: UserPart[] = results.map((r) => ({
    type: "tool_result",
    toolUseId: r.call.id,
    content: [{ type: "text", text: r.text }],
    ...(r.isError ? { isError: true } : {}),
  }));
  const messages: CanonicalMessage[] = [...req.messages, { role: "assistant", content: assistant }, { role: "user", content: toolResults }];
  return { ...req, messages };
}
