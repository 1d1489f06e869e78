/**
 * Chat Completions answers to requests with `web_search_options` (docs/web-search.md). Chat has
 * no output form for a search itself, so the turn's search events are not shown; the results
 * they returned give the answer's citations, as OpenAI's search models send them:
 *
 *   message.annotations: [{type: "url_citation", url_citation: {start_index, end_index, url, title}}]
 *
 * (offsets into message.content, see src/core/web-search-citations.ts). Streaming: one chunk
 * whose delta is `{annotations: [...]}` (the whole list), right before the finish chunk.
 * Text written before a search and the answer after it are one content string: a blank line
 * separates them.
 */
import type { CanonicalEvent } from "../../core/canonical";
import { AnswerSources, isWebSearchEvent } from "../../core/web-search-citations";

export type ChatAnnotation = { type: "url_citation"; url_citation: { start_index: number; end_index: number; url: string; title: string } };

export class ChatCitations {
  private readonly sources = new AnswerSources();
  private text = "";
  private searchedSinceText = false;

  /** The event as the plain encoders take it: cited text → text, other search events → undefined. */
  map(e: CanonicalEvent): CanonicalEvent | undefined {
    if (e.type === "text") return this.textEvent(e.text);
    if (!isWebSearchEvent(e)) return e;
    this.sources.add(e);
    if (e.type === "cited_text") return this.textEvent(e.text);
    this.searchedSinceText = true;
    return undefined;
  }

  annotations(): ChatAnnotation[] {
    return this.sources.citations(this.text).map((c) => ({ type: "url_citation", url_citation: { start_index: c.start, end_index: c.end, url: c.url, title: c.title } }));
  }

  private textEvent(text: string): CanonicalEvent | undefined {
    if (!text) return undefined;
    if (this.searchedSinceText && this.text && !this.text.endsWith("\n\n")) text = (this.text.endsWith("\n") ? "\n" : "\n\n") + text;
    this.searchedSinceText = false;
    this.text += text;
    return { type: "text", text };
  }
}

/** The turn's events for the plain encoders (see ChatCitations.map). */
export async function* withCitations(events: AsyncIterable<CanonicalEvent>, c: ChatCitations): AsyncGenerator<CanonicalEvent> {
  for await (const e of events) {
    const m = c.map(e);
    if (m) yield m;
  }
}

/** The streaming chunk that carries the annotations, in the envelope of the encoder's chunks. */
export function annotationsChunk(o: { id: string; created: number; model: string; includeUsage: boolean }, annotations: ChatAnnotation[]): Record<string, unknown> {
  const c: Record<string, unknown> = {
    id: o.id,
    object: "chat.completion.chunk",
    created: o.created,
    model: o.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta: { annotations }, logprobs: null, finish_reason: null }],
  };
  if (o.includeUsage) c.usage = null;
  return c;
}
