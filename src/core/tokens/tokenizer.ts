import type { getTokenizer } from "@anthropic-ai/tokenizer";

/**
 * Token counting with Anthropic's published tokenizer (@anthropic-ai/tokenizer: tiktoken's WASM
 * BPE over claude.json's ranks), made cheap for text that repeats.
 *
 * tiktoken counts a text by splitting it with the vocabulary's regex (claude.json `pat_str`) and
 * BPE-encoding each piece on its own, so the count of a text is the sum of its pieces' counts.
 * Here the split runs in JS (a native regex) and each piece's count is remembered: words,
 * punctuation and indentation recur across answers and prompts, so after a little traffic almost
 * every piece is a Map hit instead of a trip through WASM.
 *
 * Measured (Bun 1.4.5, this 2-core machine; README + turn.ts, 36 k chars, 9,196 pieces of which
 * 1,706 distinct): one WASM encode of the whole text 11.8 ms; piece counts all cached 2.0 ms; cold
 * cache 2.0 ms + 1,706 × 2.75 µs per WASM call ≈ 6.7 ms. A 500-character answer sample (the
 * per-request output estimate) went from ~170 µs to a few µs. tests/kiro/request/tokenizer.test.ts
 * checks that the piece sum equals the whole-text encode on prose, code, JSON and mixed scripts.
 */

type Tokenizer = ReturnType<typeof getTokenizer>;
type ClaudeVocab = { pat_str: string; special_tokens: Record<string, number> };

let loaded: { tokenizer: Tokenizer; piece: RegExp; special: RegExp } | undefined;

/**
 * Loaded on first use, not at start: the WASM and rank table cost ~12 MiB RSS and ~60 ms of
 * start-up (bench/startup.ts), and many runs never count a token.
 */
function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const { getTokenizer } = require("@anthropic-ai/tokenizer") as { getTokenizer: () => Tokenizer };
  const vocab = require("@anthropic-ai/tokenizer/dist/cjs/claude.json") as ClaudeVocab;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  loaded = {
    tokenizer: getTokenizer(),
    piece: new RegExp(vocab.pat_str, "gu"),
    special: new RegExp(Object.keys(vocab.special_tokens).map(escape).join("|"), "g"),
  };
  return loaded;
}

/** The one tiktoken instance of the process (building one costs ~50 ms). */
export function sharedTokenizer(): Tokenizer {
  return load().tokenizer;
}

/**
 * Piece → token count. Two generations bound it: when the young map is full it becomes the old
 * one (the previous old one is dropped), and an old hit is promoted, so pieces in use survive.
 * ~2 × 32k short strings ≈ a few MiB at most.
 */
const GENERATION = 32_768;
/** Longer pieces (base64, minified runs) rarely repeat: counted, not kept. */
const MAX_CACHED_PIECE = 48;
let young = new Map<string, number>();
let old = new Map<string, number>();

function pieceTokens(p: string, tokenizer: Tokenizer): number {
  let n = young.get(p);
  if (n !== undefined) return n;
  n = old.get(p);
  if (n === undefined) {
    n = tokenizer.encode_ordinary(p).length;
    if (p.length > MAX_CACHED_PIECE) return n;
  }
  if (young.size >= GENERATION) {
    old = young;
    young = new Map();
  }
  young.set(p, n);
  return n;
}

function ordinaryTokens(text: string, l: NonNullable<typeof loaded>): number {
  let n = 0;
  const re = l.piece;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) n += pieceTokens(m[0], l.tokenizer);
  return n;
}

/**
 * Tokens in `text`, as `tokenizer.encode(text.normalize("NFKC"), "all").length` counts them:
 * special-token strings (<EOT>, <META>, …) count as one token each, the rest piece by piece.
 */
export function encodedLength(text: string): number {
  const l = load();
  const t = text.normalize("NFKC");
  if (!t.includes("<")) return ordinaryTokens(t, l);
  let n = 0;
  let from = 0;
  l.special.lastIndex = 0;
  for (let m = l.special.exec(t); m; m = l.special.exec(t)) {
    n += ordinaryTokens(t.slice(from, m.index), l) + 1;
    from = m.index + m[0].length;
  }
  return n + ordinaryTokens(t.slice(from), l);
}
