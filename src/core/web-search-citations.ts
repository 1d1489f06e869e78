/**
 * URL citations for answers that used web search, in the form the OpenAI APIs give them
 * (`url_citation` annotations: a span of the answer text plus the URL and title it cites).
 *
 * The model writes its answer as plain text; it cites a result by writing its URL, bare or as a
 * Markdown link. So the citations are found in the final text: every place where the URL of a
 * result the answer's searches returned appears. A Markdown link `[label](url)` is cited as a
 * whole; a bare URL as itself. Spans are JavaScript string offsets (UTF-16 code units), start
 * inclusive, end exclusive, in text order, never overlapping.
 */
import type { WebSearchEvent, WebSearchHit } from "./canonical";

export type UrlCitationSpan = { start: number; end: number; url: string; title: string };

/** Characters that continue a URL: a match followed by one of them is a longer, other URL. */
const URL_CONTINUES = /[A-Za-z0-9_\-/%?#=&+~@:]/;

function continuesAfter(text: string, at: number): boolean {
  const c = text[at];
  if (c === undefined) return false;
  if (URL_CONTINUES.test(c)) return true;
  // "…/page.html" continues "…/page"; "…/page." (end of a sentence) does not.
  return (c === "." || c === ",") && URL_CONTINUES.test(text[at + 1] ?? " ") && text[at + 1] !== "/";
}

/** `[label](url)` around the URL at `start`…`end`: the link's span, else undefined. */
function markdownLink(text: string, start: number, end: number): { start: number; end: number } | undefined {
  if (text.slice(start - 2, start) !== "](" || text[end] !== ")") return undefined;
  const open = text.lastIndexOf("[", start - 2);
  if (open < 0) return undefined;
  const label = text.slice(open + 1, start - 2);
  if (label.includes("\n") || label.includes("]")) return undefined;
  return { start: open, end: end + 1 };
}

/** The spellings of a result's URL a model may write (with and without a trailing slash). */
function spellings(url: string): string[] {
  const bare = url.endsWith("/") ? url.slice(0, -1) : url;
  return bare === url ? [url, url + "/"] : [url, bare];
}

/** Every citation of `hits` in `text` (see the module comment). */
export function findUrlCitations(text: string, hits: readonly WebSearchHit[]): UrlCitationSpan[] {
  if (!text || hits.length === 0) return [];
  const spans: UrlCitationSpan[] = [];
  const overlaps = (s: number, e: number) => spans.some((x) => s < x.end && x.start < e);
  // Longer URLs first, so a URL that is a prefix of another never takes the other's place.
  const byUrl = new Map<string, WebSearchHit>();
  for (const h of hits) if (h.url && !byUrl.has(h.url)) byUrl.set(h.url, h);
  const candidates = [...byUrl.values()].flatMap((h) => spellings(h.url).map((s) => ({ s, h }))).sort((a, b) => b.s.length - a.s.length);
  for (const { s, h } of candidates) {
    for (let at = text.indexOf(s); at >= 0; at = text.indexOf(s, at + 1)) {
      const end = at + s.length;
      if (continuesAfter(text, end)) continue;
      const span = markdownLink(text, at, end) ?? { start: at, end };
      if (overlaps(span.start, span.end)) continue;
      spans.push({ ...span, url: h.url, title: h.title });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * The hits an answer's searches returned, gathered from its events (the results each search
 * showed the client, after domain filtering), for findUrlCitations at the end of the message.
 */
export class AnswerSources {
  readonly hits: WebSearchHit[] = [];
  /** Searches the answer made so far (server_tool_use events). */
  searches = 0;

  add(ev: WebSearchEvent): void {
    if (ev.type === "server_tool_use") this.searches++;
    else if (ev.type === "web_search_result") this.hits.push(...ev.hits);
    else if (ev.type === "cited_text") for (const c of ev.citations) this.hits.push({ url: c.url, title: c.title });
  }

  citations(text: string): UrlCitationSpan[] {
    return findUrlCitations(text, this.hits);
  }
}

/** True for the events only a web search turn yields. */
export function isWebSearchEvent(ev: { type: string }): ev is WebSearchEvent {
  return ev.type === "server_tool_use" || ev.type === "web_search_result" || ev.type === "web_search_error" || ev.type === "cited_text";
}
