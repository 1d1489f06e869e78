import type { getTokenizer } from "@anthropic-ai/tokenizer";
import { bpeTokenLengths, parseRanks, readVocab, utf8Binary, type Ranks } from "./bpe";

/**
 * Token counting with Anthropic's published tokenizer (@anthropic-ai/tokenizer: tiktoken's BPE
 * over claude.json's ranks), linear in the input and cheap for text that repeats.
 *
 * tiktoken counts a text by splitting it with the vocabulary's regex (claude.json `pat_str`) and
 * BPE-encoding each piece on its own, so the count of a text is the sum of its pieces' counts.
 * Here the split runs in JS (a native regex), each piece is encoded by ./bpe.ts (the same merges
 * as tiktoken's WASM encoder, without its ~35 MiB of resident memory) and each piece's count is
 * remembered: words, punctuation and indentation recur across answers and prompts, so after a
 * little traffic almost every piece is a Map hit.
 *
 * Long pieces. The BPE of one piece costs time quadratic in its length (4 KB of letters 5.7 ms,
 * 16 KB 91 ms), and text without whitespace — a base64 blob, a minified file, 'Z' × 1,000,000 —
 * is one piece: counted whole, one such request froze the server for a minute. Pieces longer than
 * LONG_PIECE are therefore encoded in windows: each window is encoded, its last WINDOW_TAIL
 * tokens are dropped (they may merge with what follows) and the next window starts where the kept
 * tokens end. BPE merges are local, so this equals the whole-piece count on every long-piece case
 * in tests/kiro/request/tokenizer.test.ts (repeated and random base64, letters, CJK, emoji,
 * digits, punctuation); the one known difference is a long run of whitespace, whose tokens can be
 * longer than a window (a few tokens too many). The cost is linear: ~0.3 µs per ASCII character
 * ('Z' × 1,000,000 or 1 MB of letters: ~260 ms; whole-piece BPE of it: minutes).
 *
 * The event loop. Even linear, a megabyte of text is ~150–350 ms of CPU. `encodedLengthAsync`
 * does the same count in slices of SLICE_CHARS characters (a few ms each) with a macrotask
 * between them, so other requests (and /health) are served while a large prompt is counted.
 * Slicing happens on piece boundaries (the split regex resumes from where it stopped), so the
 * sliced count is identical to the synchronous one.
 *
 * Measured (Bun 1.4.5, this 2-core machine): the README (~60 k chars) counts in ~18 ms with a cold
 * piece cache, ~3 ms warm (the WASM encoder with the same cache: ~20 ms and ~5 ms).
 */

type Tokenizer = ReturnType<typeof getTokenizer>;
type Loaded = { ranks: Ranks; piece: RegExp; windowPiece: RegExp; special: RegExp };

/**
 * The vocabulary (rank table and split regexes) and the WASM tokenizer are the same for every
 * server in a process and never change once built: built once per process, on first use. What
 * changes with use (the remembered piece counts) lives in each server's TokenCounter.
 */
let loaded: Loaded | undefined;
let wasm: Tokenizer | undefined;

/**
 * Loaded on first use, not at start (~30 ms, ~1.5 MiB: the rank table of ./bpe.ts), since many runs
 * never count a token. Counting runs in JavaScript (./bpe.ts), not in the published WASM encoder.
 */
function load(): Loaded {
  if (loaded) return loaded;
  const vocab = readVocab();
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  loaded = {
    ranks: parseRanks(vocab.bpe_ranks),
    piece: new RegExp(vocab.pat_str, "gu"),
    windowPiece: new RegExp(vocab.pat_str, "gu"),
    special: new RegExp(Object.keys(vocab.special_tokens).map(escape).join("|"), "g"),
  };
  return loaded;
}

/**
 * The published WASM tokenizer (building one costs ~50 ms and ~35 MiB that stay resident): only
 * for code that needs token ids and their text (cutting an answer at max_tokens) and tests.
 */
export function sharedTokenizer(): Tokenizer {
  if (wasm) return wasm;
  const { getTokenizer } = require("@anthropic-ai/tokenizer") as { getTokenizer: () => Tokenizer };
  return (wasm = getTokenizer());
}

/**
 * Piece → token count, remembered: one per server (InputTokenEstimator holds it), so what a server
 * remembers goes with it. Two generations bound it: when the young map is full it becomes the old
 * one (the previous old one is dropped), and an old hit is promoted, so pieces in use survive.
 * Pieces are at most MAX_CACHED_PIECE characters: 2 × 32k entries ≤ ~6 MiB (typically ~2 MiB:
 * words average under 8 characters).
 */
const GENERATION = 32_768;
/** Longer pieces (base64, minified runs) rarely repeat: counted, not kept. */
const MAX_CACHED_PIECE = 48;

export class TokenCounter {
  private young = new Map<string, number>();
  private old = new Map<string, number>();

  /**
   * Tokens in `text`, as `tokenizer.encode(text.normalize("NFKC"), "all").length` counts them:
   * special-token strings (<EOT>, <META>, …) count as one token each, the rest piece by piece.
   * Synchronous: for text that may be large (client input), use encodedLengthAsync.
   */
  encodedLength(text: string): number {
    const c = new TextCount(text, load(), this);
    c.run(Number.POSITIVE_INFINITY);
    return c.total;
  }

  /** The same count as encodedLength, in slices with a macrotask between them (never blocks long). */
  async encodedLengthAsync(text: string): Promise<number> {
    const c = new TextCount(text, load(), this);
    while (!c.run(SLICE_CHARS)) await new Promise<void>((resolve) => setImmediate(resolve));
    return c.total;
  }

  /** Pieces remembered now (both generations). */
  get remembered(): number {
    return this.young.size + this.old.size;
  }

  /** @internal One piece's count, from memory or encoded (TextCount). */
  pieceTokens(p: string, ranks: Ranks): number {
    let n = this.young.get(p);
    if (n !== undefined) return n;
    n = this.old.get(p);
    if (n === undefined) {
      n = bpeTokenLengths(utf8Binary(p), ranks);
      if (p.length > MAX_CACHED_PIECE) return n;
    }
    if (this.young.size >= GENERATION) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(p, n);
    return n;
  }
}

/**
 * Tokens of `text` as tiktoken's encode_ordinary makes them (split by the vocabulary's regex, each
 * piece byte-pair encoded), appended to `out` as byte lengths; returns the count.
 */
function encodeLengths(text: string, l: Loaded, out?: number[]): number {
  const re = l.windowPiece;
  re.lastIndex = 0;
  let n = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) n += bpeTokenLengths(utf8Binary(m[0]), l.ranks, out);
  return n;
}

/** Pieces up to this many UTF-16 units are encoded whole (at most ~0.1 ms each). */
const LONG_PIECE = 256;
/** Window sizes for long pieces: ~200–300 UTF-8 bytes, where a WASM call costs least per byte. */
const WINDOW_ASCII = 256;
const WINDOW_OTHER = 96;
/** Tokens at a window's end that may merge with the next window's text: re-encoded there. */
const WINDOW_TAIL = 2;
/** Characters counted between two yields of encodedLengthAsync (~1–3 ms of CPU). */
const SLICE_CHARS = 8_192;

const ASCII = /^[\x00-\x7f]*$/;

/**
 * A resumable count of one text. `run(budget)` counts about `budget` more characters and says
 * whether the whole text is done; `total` is the count so far.
 */
class TextCount {
  total = 0;
  private readonly t: string;
  /** Current segment (text between special tokens) and the split regex's position in it. */
  private seg: string | undefined;
  private pos = 0;
  /** Where the next segment starts in `t`; the special token that ends the current one. */
  private next = 0;
  private specialAtEnd = false;
  /** A long piece being encoded window by window, and how far it got. */
  private long: string | undefined;
  private longPos = 0;

  constructor(
    text: string,
    private readonly l: Loaded,
    private readonly pieces: TokenCounter,
  ) {
    this.t = text.normalize("NFKC");
  }

  run(budget: number): boolean {
    let spent = 0;
    const re = this.l.piece;
    for (;;) {
      if (this.long !== undefined) {
        spent += this.advanceLong(budget - spent);
        if (this.long !== undefined || spent >= budget) return false;
      }
      if (this.seg === undefined && !this.nextSegment()) return true;
      const seg = this.seg!;
      re.lastIndex = this.pos;
      for (let m = re.exec(seg); m; m = re.exec(seg)) {
        const p = m[0];
        if (p.length > LONG_PIECE) {
          this.pos = re.lastIndex;
          this.long = p;
          this.longPos = 0;
          break;
        }
        this.total += this.pieces.pieceTokens(p, this.l.ranks);
        spent += p.length;
        if (spent >= budget) {
          this.pos = re.lastIndex;
          return false;
        }
      }
      if (this.long !== undefined) continue;
      this.seg = undefined;
      if (this.specialAtEnd) this.total += 1;
    }
  }

  /** Moves to the next segment; false when the text is done. */
  private nextSegment(): boolean {
    if (this.next > this.t.length) return false;
    const from = this.next;
    let end = this.t.length;
    this.specialAtEnd = false;
    if (this.t.includes("<", from)) {
      const sp = this.l.special;
      sp.lastIndex = from;
      const m = sp.exec(this.t);
      if (m) {
        end = m.index;
        this.specialAtEnd = true;
        this.next = m.index + m[0].length;
      }
    }
    if (!this.specialAtEnd) this.next = this.t.length + 1;
    this.seg = from === 0 && end === this.t.length ? this.t : this.t.slice(from, end);
    this.pos = 0;
    return true;
  }

  /** Encodes windows of the current long piece until `budget` characters are spent; returns the spend. */
  private advanceLong(budget: number): number {
    const p = this.long!;
    let spent = 0;
    while (spent < budget) {
      const rest = p.length - this.longPos;
      let win = p.slice(this.longPos, this.longPos + WINDOW_ASCII);
      const size = ASCII.test(win) ? WINDOW_ASCII : WINDOW_OTHER;
      if (rest <= size + LONG_PIECE / 2) {
        // The remainder is short enough to encode whole: this piece is done.
        this.total += encodeLengths(p.slice(this.longPos), this.l);
        this.long = undefined;
        return spent + rest;
      }
      if (size !== WINDOW_ASCII) win = win.slice(0, WINDOW_OTHER);
      // Never cut a surrogate pair.
      if (/[\ud800-\udbff]$/.test(win)) win = win.slice(0, -1);
      const lens: number[] = [];
      const count = encodeLengths(win, this.l, lens);
      const kept = this.keptPrefix(win, lens, count - WINDOW_TAIL);
      // A degenerate window (a few huge tokens): count it as it is.
      const tokens = kept.tokens > 0 ? kept.tokens : count;
      const chars = kept.tokens > 0 ? kept.chars : win.length;
      this.total += tokens;
      this.longPos += chars;
      spent += chars;
    }
    return spent;
  }

  /**
   * The longest prefix of the first `keep` tokens of `win` (`lens`: each token's length in UTF-8
   * bytes) that ends on a character boundary (a token may hold part of a UTF-8 character): its
   * token count and its length in UTF-16 units.
   */
  private keptPrefix(win: string, lens: number[], keep: number): { tokens: number; chars: number } {
    let best = { tokens: 0, chars: 0 };
    let tokenEnd = 0; // byte offset where token k ends
    let k = 0;
    if (keep > 0) tokenEnd = lens[0]!;
    let bytes = 0;
    for (let i = 0; i < win.length && k < keep; ) {
      const c = win.charCodeAt(i);
      const pair = c >= 0xd800 && c <= 0xdbff;
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
      i += pair ? 2 : 1;
      while (k < keep && tokenEnd < bytes) {
        k++;
        if (k < keep) tokenEnd += lens[k]!;
      }
      if (k < keep && tokenEnd === bytes) {
        best = { tokens: k + 1, chars: i };
        k++;
        if (k < keep) tokenEnd += lens[k]!;
      }
    }
    return best;
  }
}
