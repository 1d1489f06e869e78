/**
 * Byte-pair encoding of one piece in JavaScript, over the rank table of Anthropic's published
 * tokenizer (@anthropic-ai/tokenizer's claude.json): the same merges tiktoken's CoreBPE makes
 * (repeatedly merge the adjacent pair whose concatenation has the lowest rank, leftmost first), so
 * every count equals the WASM encoder's (tests/kiro/request/tokenizer.test.ts compares them).
 *
 * Why not the WASM encoder: loading it costs ~35 MiB of resident memory that never comes back
 * (its compiled code ~12 MiB, its linear memory 11 MiB, their tier-up code), more than the rest of
 * an idle server's heap; the rank table here is ~1.5 MiB (class Ranks). The WASM encoder is
 * still loaded, lazily, where token ids must be decoded back to text (src/core/stop-guard.ts,
 * only when an answer nears max_tokens).
 *
 * Bytes are held as "binary" strings (one char per byte, 0–255), the form atob() returns, so the
 * rank table's keys and a piece's byte runs compare directly.
 */
/**
 * The rank table: ~65k tokens' bytes in one string, found by an open-addressing hash over the
 * bytes of any range of a piece, so a lookup allocates nothing (a Map of 65k strings cost ~5 MiB
 * of heap and a substring per lookup; this is ~1.5 MiB). `pairs` holds the rank of every
 * two-byte string for a piece's first pass over its byte pairs.
 */
export class Ranks {
  private readonly slots: Int32Array;
  private readonly mask: number;
  readonly pairs = new Int32Array(65_536).fill(-1);

  constructor(
    /** Every token's bytes, one after another. */
    private readonly all: string,
    /** Token i is all[starts[i], starts[i + 1]). */
    private readonly starts: Int32Array,
    private readonly rankOf: Int32Array,
  ) {
    const count = rankOf.length;
    let size = 1;
    while (size < count * 2) size <<= 1;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    for (let i = 0; i < count; i++) {
      const from = starts[i]!;
      const to = starts[i + 1]!;
      let h = hash(all, from, to) & this.mask;
      // A token listed twice keeps its last rank, as tiktoken's map does.
      while (this.slots[h]! >= 0 && !this.equals(this.slots[h]!, all, from, to)) h = (h + 1) & this.mask;
      this.slots[h] = i;
      if (to - from === 2) this.pairs[(all.charCodeAt(from) << 8) | all.charCodeAt(from + 1)] = rankOf[i]!;
    }
  }

  /** The rank of bytes[from, to), or -1. */
  rank(bytes: string, from: number, to: number): number {
    for (let h = hash(bytes, from, to) & this.mask; ; h = (h + 1) & this.mask) {
      const i = this.slots[h]!;
      if (i < 0) return -1;
      if (this.equals(i, bytes, from, to)) return this.rankOf[i]!;
    }
  }

  private equals(i: number, bytes: string, from: number, to: number): boolean {
    const start = this.starts[i]!;
    if (this.starts[i + 1]! - start !== to - from) return false;
    for (let k = 0; k < to - from; k++) if (this.all.charCodeAt(start + k) !== bytes.charCodeAt(from + k)) return false;
    return true;
  }
}

/** FNV-1a over the char codes of s[from, to). */
function hash(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

type ClaudeVocab = { bpe_ranks: string; special_tokens: Record<string, number>; pat_str: string };

/** claude.json (a static require, so a compiled executable embeds it; its 700 KB text stays cached). */
export function readVocab(): ClaudeVocab {
  return require("@anthropic-ai/tokenizer/dist/cjs/claude.json") as ClaudeVocab;
}

/**
 * Parses tiktoken's compact rank format: "<marker> <first rank> <base64 token> <base64 token> …",
 * ranks consecutive from the first; a token listed twice keeps its last rank (as tiktoken's map does).
 */
export function parseRanks(bpeRanks: string): Ranks {
  const fields = bpeRanks.split(" ");
  const first = Number(fields[1]);
  const tokens = fields.slice(2).map((f) => atob(f));
  const starts = new Int32Array(tokens.length + 1);
  for (let i = 0; i < tokens.length; i++) starts[i + 1] = starts[i]! + tokens[i]!.length;
  const rankOf = Int32Array.from(tokens, (_, i) => first + i);
  return new Ranks(tokens.join(""), starts, rankOf);
}

const NO_RANK = Number.POSITIVE_INFINITY;
const rankOr = (r: number) => (r < 0 ? NO_RANK : r);

/** Pieces up to this many bytes are merged by scanning the pairs (cheapest when short). */
const SCAN_LIMIT = 24;

/**
 * Appends the byte length of each token of `bytes` (a binary string) to `out` and returns the
 * number of tokens. Short pieces scan their pairs for the lowest rank at each merge (quadratic,
 * but a few bytes); longer ones keep candidate pairs in a heap keyed by (rank, position), so a
 * 256-byte window costs O(n log n).
 */
export function bpeTokenLengths(bytes: string, ranks: Ranks, out?: number[]): number {
  const n = bytes.length;
  if (n <= 1 || ranks.rank(bytes, 0, n) >= 0) {
    if (n > 0) out?.push(n);
    return n > 0 ? 1 : 0;
  }
  return n <= SCAN_LIMIT ? mergeByScan(bytes, ranks, out) : mergeByHeap(bytes, ranks, out);
}

function mergeByScan(bytes: string, ranks: Ranks, out?: number[]): number {
  const n = bytes.length;
  // starts[k] is where part k begins (starts[parts] = n); pair[k] the rank of part k + part k+1.
  const starts: number[] = new Array(n + 1);
  for (let i = 0; i <= n; i++) starts[i] = i;
  const pair: number[] = new Array(n - 1);
  for (let k = 0; k < n - 1; k++) pair[k] = rankOr(ranks.pairs[(bytes.charCodeAt(k) << 8) | bytes.charCodeAt(k + 1)]!);
  let parts = n;
  for (;;) {
    let min = NO_RANK;
    let at = -1;
    for (let k = 0; k < parts - 1; k++) {
      if (pair[k]! < min) {
        min = pair[k]!;
        at = k;
      }
    }
    if (at < 0) break;
    // Merge part `at` with part `at + 1`.
    starts.splice(at + 1, 1);
    pair.splice(at, 1);
    parts--;
    const rank = (k: number) => (k + 2 <= parts ? rankOr(ranks.rank(bytes, starts[k]!, starts[k + 2]!)) : NO_RANK);
    if (at < parts - 1) pair[at] = rank(at);
    if (at > 0) pair[at - 1] = rank(at - 1);
  }
  if (out) for (let k = 0; k < parts; k++) out.push(starts[k + 1]! - starts[k]!);
  return parts;
}

/** Heap keys: rank × POSITIONS + start byte of the pair's left part (the leftmost wins a tie). */
const POSITIONS = 2 ** 21;

function mergeByHeap(bytes: string, ranks: Ranks, out?: number[]): number {
  const n = bytes.length;
  if (n >= POSITIONS) throw new RangeError("piece too long for byte-pair encoding");
  // Parts as a linked list of start offsets: next[s] is the start of the part after the one at s
  // (n: none), prev[s] the one before (-1: none); alive[s] while a part starts at s.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  // current[s]: the rank of the pair whose left part starts at s (-1: none); a heap key whose
  // rank differs is stale (that part merged or its neighbour changed since it was pushed).
  const current = new Int32Array(n).fill(-1);
  const heap: number[] = [];
  const setPair = (s: number): void => {
    const r = next[s]!;
    let rank = -1;
    if (r < n) rank = ranks.rank(bytes, s, next[r]!);
    current[s] = rank;
    if (rank >= 0) push(heap, rank * POSITIONS + s);
  };
  const pairs = ranks.pairs;
  for (let s = 0; s < n - 1; s++) {
    const r = pairs[(bytes.charCodeAt(s) << 8) | bytes.charCodeAt(s + 1)]!;
    current[s] = r;
    if (r >= 0) heap.push(r * POSITIONS + s);
  }
  heapify(heap);
  let parts = n;
  while (heap.length) {
    const key = pop(heap);
    const s = key % POSITIONS;
    if (!alive[s] || current[s] !== (key - s) / POSITIONS) continue;
    const right = next[s]!;
    alive[right] = 0;
    next[s] = next[right]!;
    if (next[s]! < n) prev[next[s]!] = s;
    parts--;
    setPair(s);
    if (prev[s]! >= 0) setPair(prev[s]!);
  }
  if (out) for (let s = 0; s < n; s = next[s]!) out.push(next[s]! - s);
  return parts;
}

function heapify(h: number[]): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) down(h, i);
}

function push(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const up = (i - 1) >> 1;
    if (h[up]! <= v) break;
    h[i] = h[up]!;
    i = up;
  }
  h[i] = v;
}

function pop(h: number[]): number {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length) {
    h[0] = last;
    down(h, 0);
  }
  return top;
}

function down(h: number[], i: number): void {
  const v = h[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= h.length) break;
    if (c + 1 < h.length && h[c + 1]! < h[c]!) c++;
    if (h[c]! >= v) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = v;
}

const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 bytes of `s` as a binary string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8Binary(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, "utf8").toString("latin1");
}
