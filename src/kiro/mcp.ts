/**
 * Kiro's MCP endpoint (the InvokeMCP operation): `POST {host}/mcp` with a JSON-RPC 2.0 body,
 * bearer auth, the account's ARN in `x-amzn-kiro-profile-arn` and the runtime user agent (no
 * agent-mode header). Kiro serves its web search here as the MCP tool `web_search` {query};
 * the tool's text content is a JSON string `{results: [{title, url, snippet, publishedDate, id,
 * domain, maxVerbatimWordLimit, publicDomain}], totalResults, query, error}`.
 *
 * Two layers of failure, kept apart on purpose:
 *  - HTTP answers (bearer invalid, suspended, quota, throttling, 5xx, 404 host not served) are
 *    the account's or the service's state: classified by classifyUpstreamError and thrown as a
 *    KiroError, exactly like the other side calls (the caller decides refresh / fail over).
 *    404 and unreachable hosts move to the next endpoint family first.
 *  - JSON-RPC errors and tool errors inside a 200 are the search's own outcome (tool not in the
 *    plan, bad query, search backend down): returned as `{ok: false, code, message}` so the
 *    client sees a tool error, never an account penalty.
 */
import type { KiroCredentials } from "./client";
import type { KiroUpstreamConfig } from "./config";
import type { EndpointSelector } from "./endpoints";
import { KiroError } from "./errors";
import { sideCall, sideHeaders } from "./side-call";

export type McpSearchHit = {
  title: string;
  url: string;
  snippet?: string;
  /** Epoch ms. */
  publishedDate?: number;
  domain?: string;
  id?: string;
  maxVerbatimWordLimit?: number;
  publicDomain?: boolean;
};

/**
 * What a search produced. Failure codes: `not_in_plan` (the account's MCP does not offer
 * web_search), `invalid_input` (the service refused the query), `unavailable` (the tool ran and
 * failed, or answered something unreadable).
 */
export type McpSearchOutcome =
  | { ok: true; query: string; hits: McpSearchHit[]; totalResults?: number }
  | { ok: false; code: "not_in_plan" | "invalid_input" | "unavailable"; message: string };

export type McpCallOptions = { endpoints?: EndpointSelector; timeoutMs?: number };

const MCP_TIMEOUT_MS = 30_000;
/** JSON-RPC: unknown method / invalid params (an unknown tool is reported as invalid params). */
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

type Json = Record<string, unknown>;
type RpcAnswer = { result?: Json; error?: { code?: number; message?: string } };

/** One JSON-RPC request; endpoint families are tried in order, falling back only on 404 / unreachable. */
async function rpcCall(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  method: string,
  params: Json,
  signal: AbortSignal | undefined,
  opts: McpCallOptions,
): Promise<RpcAnswer> {
  const body = JSON.stringify({ id: `kiro-server-${crypto.randomUUID()}`, jsonrpc: "2.0", method, params });
  const run = { endpoints: opts.endpoints, signal, timeoutMs: opts.timeoutMs ?? MCP_TIMEOUT_MS };
  return sideCall(
    creds,
    upstream,
    run,
    (ep) => ({
      url: `${ep.baseUrl}/mcp`,
      method: "POST",
      // No agent-mode header; the account's ARN, when it has one, in its own header.
      headers: sideHeaders(creds, {
        "content-type": "application/json",
        ...(creds.profileArn ? { "x-amzn-kiro-profile-arn": creds.profileArn } : {}),
      }),
      body,
    }),
    async (res) => {
      let parsed: unknown;
      try {
        parsed = await res.json();
      } catch (e) {
        throw new KiroError("transient", "MCP endpoint answered with a body that is not JSON", { status: 200, cause: e });
      }
      if (typeof parsed !== "object" || parsed === null) {
        throw new KiroError("transient", "MCP endpoint answered with a body that is not a JSON-RPC object", { status: 200 });
      }
      return parsed as RpcAnswer;
    },
  );
}

/** The tools the account's MCP offers (names). Throws KiroError for HTTP-level failures. */
export async function listMcpTools(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  signal?: AbortSignal,
  opts: McpCallOptions = {},
): Promise<string[]> {
  const answer = await rpcCall(creds, upstream, "tools/list", {}, signal, opts);
  if (answer.error) return [];
  const tools = answer.result?.tools;
  return Array.isArray(tools) ? tools.map((t) => (t as Json)?.name).filter((n): n is string => typeof n === "string") : [];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** The hits of one tool result; entries without a usable http(s) URL are dropped. */
export function parseSearchPayload(payload: Json): McpSearchHit[] {
  const results = Array.isArray(payload.results) ? (payload.results as Json[]) : [];
  const hits: McpSearchHit[] = [];
  for (const r of results) {
    const url = str(r?.url);
    if (!url || !/^https?:\/\//i.test(url)) continue;
    hits.push({
      title: str(r.title) ?? url,
      url,
      snippet: str(r.snippet),
      publishedDate: num(r.publishedDate),
      domain: str(r.domain),
      id: str(r.id),
      maxVerbatimWordLimit: num(r.maxVerbatimWordLimit),
      publicDomain: typeof r.publicDomain === "boolean" ? r.publicDomain : undefined,
    });
  }
  return hits;
}

/**
 * Run Kiro's web search for one query. Resolves with the hits or a tool-level failure; throws a
 * classified KiroError when the HTTP call itself failed (or the caller's signal aborted).
 */
export async function webSearch(
  creds: KiroCredentials,
  upstream: KiroUpstreamConfig,
  input: { query: string },
  signal?: AbortSignal,
  opts: McpCallOptions = {},
): Promise<McpSearchOutcome> {
  const query = input.query.trim();
  if (!query) return { ok: false, code: "invalid_input", message: "the search query is empty" };
  const answer = await rpcCall(creds, upstream, "tools/call", { name: "web_search", arguments: { query } }, signal, opts);
  if (answer.error) {
    const message = answer.error.message ?? `JSON-RPC error ${answer.error.code ?? "(no code)"}`;
    if (answer.error.code === METHOD_NOT_FOUND || (answer.error.code === INVALID_PARAMS && /unknown tool/i.test(message))) {
      return { ok: false, code: "not_in_plan", message: "web search is not available for this account's plan" };
    }
    if (answer.error.code === INVALID_PARAMS) return { ok: false, code: "invalid_input", message };
    return { ok: false, code: "unavailable", message };
  }
  const result = answer.result ?? {};
  const content = Array.isArray(result.content) ? (result.content as Json[]) : [];
  const text = content.find((c) => c?.type === "text" && typeof c.text === "string")?.text as string | undefined;
  let payload: Json | undefined;
  if (text !== undefined) {
    try {
      const v: unknown = JSON.parse(text);
      if (v && typeof v === "object" && !Array.isArray(v)) payload = v as Json;
    } catch {
      // handled below: an unreadable payload is a failed search, not an exception
    }
  }
  const payloadError = str(payload?.error);
  if (result.isError === true || payloadError) {
    return { ok: false, code: "unavailable", message: payloadError ?? text ?? "the search failed" };
  }
  if (!payload) return { ok: false, code: "unavailable", message: "the search answered without readable results" };
  return { ok: true, query: str(payload.query) ?? query, hits: parseSearchPayload(payload), totalResults: num(payload.totalResults) };
}
