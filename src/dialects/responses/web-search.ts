/**
 * The Responses API's hosted web search tool, served by kiro-server's own web search through
 * Kiro (docs/web-search.md):
 *
 *  - decodeHostedWebSearch: a `tools[]` entry `{type: "web_search" | "web_search_2025_08_26" |
 *    "web_search_preview" | "web_search_preview_2025_03_11", filters?: {allowed_domains?},
 *    search_context_size?, user_location?, external_web_access?, search_content_types?}` → the
 *    canonical ServerToolRequest (without its name: decodeTools picks one no client tool uses),
 *    or a 400 naming the field. Kiro's search takes only a query: `allowed_domains` filters the
 *    hits; `search_context_size`, `user_location`, `external_web_access` (Kiro has no cache-only
 *    mode) and `search_content_types` are checked and have no effect.
 *  - WebSearchItems: the turn's search events → `web_search_call` output items:
 *      output_item.added  {id: "ws_…", type: "web_search_call", status: "in_progress", action: {type: "search", query}}
 *      response.web_search_call.in_progress, response.web_search_call.searching   (while the search runs)
 *      response.web_search_call.completed                                          (it answered)
 *      output_item.done   {…, status: "completed" | "failed", action: {type: "search", query, sources?}}
 *    `sources` ([{type: "url", url}] of the hits) only when the request's `include` lists
 *    "web_search_call.action.sources"; the stored form always has them. The hits also give the
 *    answer's `url_citation` annotations (src/core/web-search-citations.ts).
 *  - webSearchCallAsText: a `web_search_call` item coming back in a request's input, as text the
 *    upstream model can read (the upstream has no such items).
 */
import type { ServerToolRequest, WebSearchEvent } from "../../core/canonical";
import { AnswerSources } from "../../core/web-search-citations";
import { invalidParam } from "./errors";

type Item = Record<string, unknown>;
const isObj = (v: unknown): v is Item => typeof v === "object" && v !== null && !Array.isArray(v);

export const HOSTED_WEB_SEARCH_TYPES: ReadonlySet<string> = new Set(["web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11"]);

export const INCLUDE_SOURCES = "web_search_call.action.sources";

const CONTEXT_SIZES = new Set(["low", "medium", "high"]);
const LOCATION_FIELDS = ["city", "country", "region", "timezone"] as const;

/** `tools[i]` of a hosted web search type → the server tool it asks for (see the module comment). */
export function decodeHostedWebSearch(t: Item, at: string): Omit<ServerToolRequest, "name"> {
  const size = t.search_context_size;
  if (size != null && !CONTEXT_SIZES.has(size as string)) {
    throw invalidParam(`${at}.search_context_size`, `Invalid value for '${at}.search_context_size': expected low, medium or high.`);
  }
  if (t.external_web_access != null && typeof t.external_web_access !== "boolean") {
    throw invalidParam(`${at}.external_web_access`, `Invalid value for '${at}.external_web_access': expected a boolean.`);
  }
  const loc = t.user_location;
  if (loc != null) {
    if (!isObj(loc)) throw invalidParam(`${at}.user_location`, `Invalid value for '${at}.user_location': expected an object.`);
    if (loc.type != null && loc.type !== "approximate") throw invalidParam(`${at}.user_location.type`, `Invalid value for '${at}.user_location.type': expected 'approximate'.`);
    for (const f of LOCATION_FIELDS) {
      if (loc[f] != null && typeof loc[f] !== "string") throw invalidParam(`${at}.user_location.${f}`, `Invalid value for '${at}.user_location.${f}': expected a string.`);
    }
  }
  let allowedDomains: string[] | undefined;
  const filters = t.filters;
  if (filters != null) {
    if (!isObj(filters)) throw invalidParam(`${at}.filters`, `Invalid value for '${at}.filters': expected an object.`);
    const d = filters.allowed_domains;
    if (d != null) {
      if (!Array.isArray(d) || d.some((x) => typeof x !== "string" || !x.trim())) {
        throw invalidParam(`${at}.filters.allowed_domains`, `Invalid value for '${at}.filters.allowed_domains': expected an array of domain names.`);
      }
      if (d.length) allowedDomains = d as string[];
    }
  }
  return { type: "web_search", version: String(t.type), ...(allowedDomains ? { allowedDomains } : {}) };
}

/** What WebSearchItems needs from the response builder. */
export type ItemSink = {
  /** Appends an output item (emitting output_item.added); `prefix` is the id prefix. */
  add(prefix: string, item: (id: string) => Item): { index: number; id: string };
  /** Closes an item (emitting output_item.done); `replay` is its stored form. */
  done(index: number, item: Item, replay: Item): void;
  emit(type: string, payload: Item): void;
};

type OpenCall = { index: number; id: string; query: string };

/** The turn's web search events as `web_search_call` items; also gathers the answer's sources. */
export class WebSearchItems {
  readonly sources = new AnswerSources();
  private readonly open = new Map<string, OpenCall>();

  constructor(private readonly sink: ItemSink, private readonly includeSources: boolean) {}

  push(ev: WebSearchEvent): void {
    this.sources.add(ev);
    if (ev.type === "server_tool_use") {
      const query = ev.input.query;
      const { index, id } = this.sink.add("ws", (id) => ({ id, type: "web_search_call", status: "in_progress", action: { type: "search", query } }));
      this.sink.emit("response.web_search_call.in_progress", { item_id: id, output_index: index });
      this.sink.emit("response.web_search_call.searching", { item_id: id, output_index: index });
      this.open.set(ev.id, { index, id, query });
      return;
    }
    if (ev.type !== "web_search_result" && ev.type !== "web_search_error") return;
    const call = this.open.get(ev.toolUseId);
    if (!call) return;
    this.open.delete(ev.toolUseId);
    if (ev.type === "web_search_result") {
      this.sink.emit("response.web_search_call.completed", { item_id: call.id, output_index: call.index });
      const sources = ev.hits.map((h) => ({ type: "url", url: h.url }));
      this.close(call, "completed", sources);
    } else {
      this.close(call, "failed", []);
    }
  }

  /** Calls still searching when the response ends early (a failure): closed as failed. */
  abandon(): void {
    for (const call of this.open.values()) this.close(call, "failed", []);
    this.open.clear();
  }

  /** The `url_citation` annotations of a finished output_text. */
  annotations(text: string): Item[] {
    return this.sources.citations(text).map((c) => ({ type: "url_citation", start_index: c.start, end_index: c.end, url: c.url, title: c.title }));
  }

  private close(call: OpenCall, status: "completed" | "failed", sources: Item[]): void {
    const item = (withSources: boolean): Item => ({
      id: call.id,
      type: "web_search_call",
      status,
      action: { type: "search", query: call.query, ...(withSources && status === "completed" ? { sources } : {}) },
    });
    this.sink.done(call.index, item(this.includeSources), item(true));
  }
}

/** A `web_search_call` input item → assistant text for the model (its query and sources). */
export function webSearchCallAsText(item: Item): string {
  const a = isObj(item.action) ? item.action : {};
  if (a.type === "open_page") return `[Opened the web page ${typeof a.url === "string" ? a.url : ""}.]`;
  if (a.type === "find_in_page") return `[Searched the page ${String(a.url ?? "")} for "${String(a.pattern ?? "")}".]`;
  const queries = typeof a.query === "string" ? [a.query] : Array.isArray(a.queries) ? a.queries.filter((q): q is string => typeof q === "string") : [];
  const q = queries.map((x) => `"${x}"`).join(", ");
  if (item.status === "failed") return `[The web search for ${q || "the query"} failed.]`;
  const urls = (Array.isArray(a.sources) ? a.sources : []).map((s) => (isObj(s) && typeof s.url === "string" ? s.url : "")).filter(Boolean);
  return `[Searched the web for ${q || "the query"}${urls.length ? `; sources: ${urls.join(", ")}` : ""}.]`;
}
