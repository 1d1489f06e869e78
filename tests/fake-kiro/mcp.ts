/**
 * The fake's MCP endpoint (`POST /mcp`, the InvokeMCP operation): JSON-RPC 2.0 over one POST,
 * bearer auth like every other call, the account's ARN (if any) in `x-amzn-kiro-profile-arn`.
 *
 *   request   {id, jsonrpc: "2.0", method, params}
 *   response  {id, jsonrpc: "2.0", result} | {id, jsonrpc: "2.0", error: {code, message, data?}}
 *
 * Methods: `initialize`, `notifications/initialized` (a notification: no id, empty answer),
 * `tools/list`, `tools/call`. The one tool is `web_search` {query}; its result is
 * `{content: [{type: "text", text: <JSON string>}], isError}` where the JSON is
 * `{results: [{title, url, snippet, publishedDate, id, domain, maxVerbatimWordLimit, publicDomain}],
 * totalResults, query, error}`. Results are deterministic: the same query always gives the same
 * hits, on five different domains (so domain filters have something to filter), and every
 * snippet carries a marker `fact-<n>-<hash>` a test can look for in what the model received.
 *
 * Failure answers (before the JSON-RPC layer, like the rest of the service): unknown bearer →
 * the nameless 403; the account's behaviours (suspended, quota, throttle, 500s) as for chat; a
 * body that is not a JSON object → 400 "Improperly formed request."; an ARN header that is not
 * the account's → 403 AccessDeniedException. Inside JSON-RPC (HTTP 200): unknown method →
 * -32601; a plan without web search (`mcp.webSearch: false`) lists no tools and answers a call
 * with -32602 "Unknown tool: web_search" (the MCP specification's answer for a tool the server
 * does not offer); a missing or empty query → -32602; `mcp.toolErrorCalls` → a tool result with
 * `isError: true` and the payload's `error` set (search backend failure).
 */

export type FakeMcpBehaviour = {
  /** The plan includes web search (default true). */
  webSearch?: boolean;
  /** Next N web_search calls fail inside the tool (isError: true). */
  toolErrorCalls?: number;
  /** Hits per search (default 5, at most 5). */
  resultCount?: number;
};

export type McpHelpers = {
  json(status: number, body: unknown, headers?: Record<string, string>): Response;
  typedError(status: number, name: string, message: string, reason: string | null): Response;
};

export const MCP_PROFILE_DENIED = "You do not have access to the profile specified in the request.";

const WEB_SEARCH_TOOL = {
  name: "web_search",
  description: "Search the web for current information. Returns titles, URLs and snippets of matching pages.",
  inputSchema: {
    type: "object",
    properties: { query: { type: "string", description: "The search query" } },
    required: ["query"],
  },
};

/** Stable short hash (FNV-1a) so results depend only on the query. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0").slice(0, 6);
}

export type FakeSearchHit = {
  title: string;
  url: string;
  snippet: string;
  publishedDate: number;
  id: string;
  domain: string;
  maxVerbatimWordLimit: number;
  publicDomain: boolean;
};

/** The deterministic hits for a query (exported so tests can predict them). */
export function fakeSearchHits(query: string, count = 5): FakeSearchHit[] {
  const q = query.trim();
  const h = hash(q.toLowerCase());
  const slug = q.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "query";
  const title = q.charAt(0).toUpperCase() + q.slice(1);
  const pages = [
    { url: `https://en.wikipedia.org/wiki/${encodeURIComponent(title.replace(/ /g, "_"))}`, title: `${title} - Wikipedia` },
    { url: `https://docs.example.org/${slug}`, title: `${title} documentation` },
    { url: `https://news.example.com/2026/${slug}`, title: `Latest news on ${q}` },
    { url: `https://github.com/example/${slug}`, title: `example/${slug} on GitHub` },
    { url: `https://blog.example.net/posts/${slug}`, title: `What I learned about ${q}` },
  ];
  const day = 86_400_000;
  return pages.slice(0, Math.max(0, Math.min(count, pages.length))).map((p, i) => ({
    title: p.title,
    url: p.url,
    snippet: `Result ${i + 1} about ${q}: fact-${i + 1}-${h} is what this page says.`,
    publishedDate: 1_764_460_800_000 - i * day,
    id: `fake-${h}-${i + 1}`,
    domain: new URL(p.url).hostname,
    maxVerbatimWordLimit: 30,
    publicDomain: false,
  }));
}

function rpc(helpers: McpHelpers, id: unknown, payload: { result: unknown } | { error: { code: number; message: string; data?: unknown } }): Response {
  return helpers.json(200, { id, jsonrpc: "2.0", ...payload });
}

/**
 * Answer one POST /mcp for an authenticated account. `behaviour` is the account's MCP state
 * (mutated: toolErrorCalls counts down); `headers` are the recorded request headers.
 */
export function mcpAnswer(
  body: unknown,
  headers: Record<string, string>,
  acct: { profileArn?: string; mcp: FakeMcpBehaviour },
  helpers: McpHelpers,
): Response {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return helpers.typedError(400, "ValidationException", "Improperly formed request.", null);
  }
  const arn = headers["x-amzn-kiro-profile-arn"];
  if (arn !== undefined && arn !== acct.profileArn) {
    return helpers.typedError(403, "AccessDeniedException", MCP_PROFILE_DENIED, null);
  }
  const msg = body as { id?: unknown; jsonrpc?: unknown; method?: unknown; params?: unknown };
  if (msg.jsonrpc !== "2.0" || typeof msg.method !== "string") {
    return rpc(helpers, msg.id ?? null, { error: { code: -32600, message: "Invalid Request" } });
  }
  // A notification (no id) gets no JSON-RPC answer.
  if (msg.id === undefined) return helpers.json(200, {});
  const offered = acct.mcp.webSearch !== false;
  switch (msg.method) {
    case "initialize":
      return rpc(helpers, msg.id, {
        result: { protocolVersion: "2025-03-26", capabilities: { tools: {} }, serverInfo: { name: "fake-kiro-mcp", version: "1.0.0" } },
      });
    case "tools/list":
      return rpc(helpers, msg.id, { result: { tools: offered ? [WEB_SEARCH_TOOL] : [] } });
    case "tools/call": {
      const params = (msg.params ?? {}) as { name?: unknown; arguments?: { query?: unknown } };
      if (params.name !== "web_search" || !offered) {
        return rpc(helpers, msg.id, { error: { code: -32602, message: `Unknown tool: ${String(params.name)}` } });
      }
      const query = params.arguments?.query;
      if (typeof query !== "string" || query.trim() === "") {
        return rpc(helpers, msg.id, { error: { code: -32602, message: "Invalid params: query must be a non-empty string" } });
      }
      if (acct.mcp.toolErrorCalls && acct.mcp.toolErrorCalls > 0) {
        acct.mcp.toolErrorCalls--;
        const text = JSON.stringify({ results: [], totalResults: 0, query, error: "Search service temporarily unavailable" });
        return rpc(helpers, msg.id, { result: { content: [{ type: "text", text }], isError: true } });
      }
      const results = fakeSearchHits(query, acct.mcp.resultCount ?? 5);
      const text = JSON.stringify({ results, totalResults: results.length, query, error: null });
      return rpc(helpers, msg.id, { result: { content: [{ type: "text", text }], isError: false } });
    }
  }
  return rpc(helpers, msg.id, { error: { code: -32601, message: `Method not found: ${msg.method}` } });
}
