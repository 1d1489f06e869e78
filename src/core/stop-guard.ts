/**
 * Enforces stop_sequences, max_tokens and "one tool call per turn" on the canonical event stream
 * (the upstream ignores all three). Stop sequences apply to answer text only, and match across chunk boundaries: the tail
 * of the text that could still be the start of a stop sequence is held back until the next
 * chunk decides it. max_tokens counts text, thinking and tool-argument JSON (see TokenBudget).
 */
import type { CanonicalEvent, StopReason } from "./canonical";
import { textTokenCount } from "./tokens/estimate";
import { sharedTokenizer } from "./tokens/tokenizer";

export type GuardStop = { reason: StopReason; stopSequence?: string };

export type StopGuardOptions = {
  stopSequences: string[];
  maxTokens: number;
  /**
   * OpenAI `parallel_tool_calls: false` / Anthropic `disable_parallel_tool_use`: the upstream has
   * no such switch and the model is only asked, so the turn ends after the first complete call.
   */
  singleToolCall?: boolean;
  /** Tokens in a text (the server's InputTokenEstimator.countText, which remembers pieces); default: a count from nothing. */
  countText?: (text: string) => number;
};

/** The first `n` tokens of `text` as text (used to cut the delta that crosses max_tokens). */
function firstTokens(text: string, n: number): string {
  if (n <= 0) return "";
  const tokenizer = sharedTokenizer();
  const ids = tokenizer.encode(text.normalize("NFKC"), "all");
  if (ids.length <= n) return text;
  // A cut inside a multi-byte character leaves a replacement char at the end: drop it.
  return new TextDecoder().decode(tokenizer.decode(ids.slice(0, n))).replace(/\uFFFD+$/, "");
}

/** Output characters counted exactly to learn this answer's tokens-per-character ratio. */
const SAMPLE_CHARS = 2000;

/**
 * Counts output tokens cheaply. Exact counting with this tokenizer costs ~1 ms per KB — more than
 * relaying the text — and the upstream model's own tokenizer differs from it anyway, so exactness
 * is only worth paying for right before the limit:
 *  1. while the UTF-8 bytes so far are below max (tokens ≤ bytes), nothing is tokenized;
 *  2. past that, the count is estimated with the ratio measured exactly on the first
 *     SAMPLE_CHARS characters of the answer;
 *  3. within `margin` tokens of the limit, counting is exact: pending deltas are admitted on the
 *     bytes bound and counted together (counting deltas one by one overcounts at word joins), and
 *     the delta that crosses the limit is cut at the exact token.
 * Measured (bench/stream.ts, 4000-frame answers, max_tokens 32000): counting exactly from the
 * first bytes bound on cost ~130 ms of tokenizer time per request; this costs a few ms.
 */
class TokenBudget {
  private bytes = 0;
  private chars = 0;
  private sample = "";
  private ratio?: number;
  private exactMode = false;
  /** Step 3: tokens counted so far (the estimate at the switch plus exact counts). */
  private confirmed = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly margin: number;
  exhausted = false;

  constructor(
    private readonly max: number,
    private readonly count: (text: string) => number,
  ) {
    this.margin = Math.max(64, Math.ceil(max * 0.05));
  }

  /** Admits `text`, returning the part that fits (all of it unless the limit is crossed). */
  admit(text: string, cuttable: boolean): string {
    const bytes = Buffer.byteLength(text, "utf8");
    if (!this.exactMode) {
      if (this.sample.length < SAMPLE_CHARS) this.sample += text.slice(0, SAMPLE_CHARS - this.sample.length);
      if (this.bytes + bytes < this.max) return this.take(text, bytes);
      this.ratio ??= this.sample.length ? this.count(this.sample) / this.sample.length : 1;
      if (Math.ceil(this.ratio * (this.chars + text.length)) < this.max - this.margin) return this.take(text, bytes);
      this.exactMode = true;
      // Short answers are still wholly inside the sample: count them exactly.
      this.confirmed = this.chars <= SAMPLE_CHARS ? this.count(this.sample.slice(0, this.chars)) : Math.round(this.ratio * this.chars);
    }
    if (this.confirmed + this.pendingBytes + bytes < this.max) {
      this.pending.push(text);
      this.pendingBytes += bytes;
      return text;
    }
    this.settle();
    const n = this.count(text);
    if (this.confirmed + n < this.max) {
      this.confirmed += n;
      return text;
    }
    this.exhausted = true;
    if (!cuttable || this.confirmed + n === this.max) {
      this.confirmed += n;
      return text;
    }
    const part = firstTokens(text, this.max - this.confirmed);
    this.confirmed = this.max;
    return part;
  }

  private take(text: string, bytes: number): string {
    this.bytes += bytes;
    this.chars += text.length;
    return text;
  }

  private settle(): void {
    if (!this.pending.length) return;
    this.confirmed += this.count(this.pending.join(""));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export class StopGuard {
  private held = "";
  private readonly stopSequences: string[];
  private readonly maxSeqLen: number;
  private readonly budget: TokenBudget;
  private readonly singleToolCall: boolean;
  /** Set once the output must end here; the runner then stops reading the upstream. */
  stopped?: GuardStop;

  constructor(o: StopGuardOptions) {
    this.stopSequences = o.stopSequences.filter((s) => s.length > 0);
    this.maxSeqLen = Math.max(0, ...this.stopSequences.map((s) => s.length));
    this.budget = new TokenBudget(o.maxTokens, o.countText ?? textTokenCount());
    this.singleToolCall = o.singleToolCall === true;
  }

  /** Feeds one content event; pushes what may be passed on into `out`. */
  feed(ev: CanonicalEvent, out: CanonicalEvent[]): void {
    if (this.stopped) return;
    switch (ev.type) {
      case "text":
        this.onText(ev.text, out);
        return;
      case "thinking": {
        this.flushHeld(out);
        if (this.stopped) return;
        const text = this.budget.admit(ev.text, true);
        if (text || ev.signature) out.push(text === ev.text ? ev : { ...ev, text });
        if (this.budget.exhausted) this.stopped = { reason: "max_tokens" };
        return;
      }
      case "tool_args":
        // Never cut tool JSON: the call completes and the turn stops after its tool_end.
        this.budget.admit(ev.json, false);
        out.push(ev);
        return;
      case "tool_end":
        out.push(ev);
        if (this.budget.exhausted) this.stopped = { reason: "max_tokens" };
        else if (this.singleToolCall) this.stopped = { reason: "tool_use" };
        return;
      default:
        this.flushHeld(out);
        if (!this.stopped) out.push(ev);
    }
  }

  /** End of the upstream stream: releases held-back text. */
  finish(out: CanonicalEvent[]): void {
    if (!this.stopped) this.flushHeld(out);
  }

  private onText(text: string, out: CanonicalEvent[]): void {
    if (!text) return;
    if (this.maxSeqLen === 0) return this.emitText(text, out);
    const buf = this.held + text;
    let at = -1;
    let seq = "";
    for (const s of this.stopSequences) {
      const i = buf.indexOf(s);
      if (i !== -1 && (at === -1 || i < at)) {
        at = i;
        seq = s;
      }
    }
    if (at !== -1) {
      this.held = "";
      this.emitText(buf.slice(0, at), out);
      if (!this.stopped) this.stopped = { reason: "stop_sequence", stopSequence: seq };
      return;
    }
    const keep = this.heldTailLength(buf);
    let cut = buf.length - keep;
    // Never split a surrogate pair between what is sent and what is held.
    if (cut > 0 && cut < buf.length && isHighSurrogate(buf.charCodeAt(cut - 1))) cut--;
    this.held = buf.slice(cut);
    this.emitText(buf.slice(0, cut), out);
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop sequence. */
  private heldTailLength(buf: string): number {
    for (let n = Math.min(this.maxSeqLen - 1, buf.length); n > 0; n--) {
      const tail = buf.slice(buf.length - n);
      for (const s of this.stopSequences) if (s.length > n && s.startsWith(tail)) return n;
    }
    return 0;
  }

  private flushHeld(out: CanonicalEvent[]): void {
    if (!this.held) return;
    const h = this.held;
    this.held = "";
    this.emitText(h, out);
  }

  private emitText(text: string, out: CanonicalEvent[]): void {
    if (!text) return;
    const part = this.budget.admit(text, true);
    if (part) out.push({ type: "text", text: part });
    if (this.budget.exhausted) this.stopped = { reason: "max_tokens" };
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
