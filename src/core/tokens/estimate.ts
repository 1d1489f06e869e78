import type { PromptParts } from "../canonical";
import { TokenCounter } from "./tokenizer";

/**
 * Local input-token estimate with Anthropic's published tokenizer (./tokenizer.ts).
 * Used for count_tokens and the input count Anthropic clients need before upstream usage exists.
 * Counting is linear: ~0.06–0.2 µs per character of prose (pieces cached or not), up to ~0.6 µs
 * for text without whitespace. Above EXACT_LIMIT characters in one segment (more than any
 * model's context holds) the count of the first EXACT_LIMIT characters is extrapolated, keeping
 * the worst case bounded. Request paths use the async variants, which count in slices and never
 * hold the event loop for more than a few ms.
 */
const EXACT_LIMIT = 1_000_000;
/** Image estimate (the one Amazon's IDE language server uses): bytes / 1e6 × 1100 tokens. */
const IMAGE_TOKENS_PER_MB = 1100;

/**
 * Tokens in `text`. `counter` remembers piece counts between calls (a server passes its own,
 * `InputTokenEstimator.counter`); without one the count starts from nothing (one-off counts, tests).
 */
export function countTextTokens(text: string, counter: TokenCounter = new TokenCounter()): number {
  if (!text) return 0;
  if (text.length <= EXACT_LIMIT) return counter.encodedLength(text);
  const head = counter.encodedLength(text.slice(0, EXACT_LIMIT));
  return Math.ceil((head * text.length) / EXACT_LIMIT);
}

/** A text → token count function over one counter (by default a new one, which then remembers what this function counts). */
export function textTokenCount(counter: TokenCounter = new TokenCounter()): (text: string) => number {
  return (text) => countTextTokens(text, counter);
}

/** countTextTokens without blocking: the same number, counted in slices. */
export async function countTextTokensAsync(text: string, counter: TokenCounter = new TokenCounter()): Promise<number> {
  if (!text) return 0;
  if (text.length <= EXACT_LIMIT) return counter.encodedLengthAsync(text);
  const head = await counter.encodedLengthAsync(text.slice(0, EXACT_LIMIT));
  return Math.ceil((head * text.length) / EXACT_LIMIT);
}

function imageTokens(base64: string): number {
  const s = String(base64 ?? "");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const bytes = Math.floor((s.length * 3) / 4) - pad;
  return Math.ceil((bytes / 1_000_000) * IMAGE_TOKENS_PER_MB);
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "";
  }
}

/**
 * Prompt-token estimates with a cache of the text segments seen recently. Clients resend the whole
 * conversation every turn (Claude Code: a 20–40 KB system prompt and tool list, then a growing
 * history), so counting each segment once saves even the piece-cached count's ~0.06 µs per
 * character (one regex pass) on every later turn. LRU, bounded. One instance per server
 * (`Services.tokens`, created at boot); tests make their own. Its `counter` (the remembered piece
 * counts) also serves the server's other counts: an answer's output estimate and max_tokens.
 */
export class InputTokenEstimator {
  private readonly cache = new Map<string, number>();
  /** Counts one segment that missed the cache (the tokenizer; tests pass a counting wrapper). */
  private readonly count: (text: string) => number;
  /** Counts one segment that missed the cache without blocking (request paths). */
  private readonly countAsync: (text: string) => Promise<number>;
  /** The server's piece counts. */
  readonly counter = new TokenCounter();

  constructor(
    private readonly maxSegments = 4096,
    count?: (text: string) => number,
    countAsync?: (text: string) => Promise<number>,
  ) {
    this.count = count ?? textTokenCount(this.counter);
    // A test's counting wrapper counts the async path's misses too.
    this.countAsync = countAsync ?? (count ? async (text) => count(text) : (text) => countTextTokensAsync(text, this.counter));
  }

  /** Tokens in one text, with the server's piece counts (output estimates, max_tokens). */
  countText(text: string): number {
    return countTextTokens(text, this.counter);
  }

  private key(text: string): string {
    return `${text.length}:${Bun.hash(text)}`;
  }

  private hit(key: string): number | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private put(key: string, n: number): number {
    this.cache.set(key, n);
    if (this.cache.size > this.maxSegments) this.cache.delete(this.cache.keys().next().value!);
    return n;
  }

  private cachedCount(text: string): number {
    if (!text) return 0;
    const key = this.key(text);
    return this.hit(key) ?? this.put(key, this.count(text));
  }

  private async cachedCountAsync(text: string): Promise<number> {
    if (!text) return 0;
    const key = this.key(text);
    return this.hit(key) ?? this.put(key, await this.countAsync(text));
  }

  /**
   * Prompt tokens: the fixed part (system, response-format text, tools) as one segment and each
   * message as one segment, each counted once and then served from the cache. Counting per
   * segment differs from one joint count only at the joins (a token or so per message).
   */
  estimate(req: PromptParts): number {
    const { segments, images } = promptSegments(req);
    let total = 0;
    for (const text of segments) total += this.cachedCount(text);
    return Math.max(1, total + images);
  }

  /** `estimate` without blocking the event loop: the same number (count_tokens, the turn's prompt estimate). */
  async estimateAsync(req: PromptParts): Promise<number> {
    const { segments, images } = promptSegments(req);
    let total = 0;
    for (const text of segments) total += await this.cachedCountAsync(text);
    return Math.max(1, total + images);
  }
}

/** The texts counted (the fixed part, then one per message) and the image tokens. */
function promptSegments(req: PromptParts): { segments: string[]; images: number } {
  const fixed: string[] = [req.system ?? "", req.responseFormatInstruction ?? ""];
  for (const t of req.tools ?? []) fixed.push(t.name, t.description ?? "", json(t.inputSchema));
  const segments = [fixed.filter(Boolean).join("\n")];
  let images = 0;
  for (const m of req.messages ?? []) {
    const texts: string[] = [];
    for (const p of m.content ?? []) {
      switch (p?.type) {
        case "text":
        case "thinking":
          texts.push(p.text);
          break;
        case "image":
          images += imageTokens(p.data);
          break;
        case "tool_use":
          texts.push(p.name, json(p.input));
          break;
        case "tool_result":
          for (const c of p.content ?? []) {
            if (c?.type === "text") texts.push(c.text);
            else if (c?.type === "image") images += imageTokens(c.data);
          }
          break;
      }
    }
    segments.push(texts.filter(Boolean).join("\n"));
  }
  return { segments, images };
}
