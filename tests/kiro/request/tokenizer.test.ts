import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { bpeTokenLengths, parseRanks, readVocab, utf8Binary } from "../../../src/core/tokens/bpe";
import { sharedTokenizer, TokenCounter } from "../../../src/core/tokens/tokenizer";

/** One counter for the file, as one server has one: its remembered pieces carry from case to case. */
const counter = new TokenCounter();
const encodedLength = (text: string) => counter.encodedLength(text);
const encodedLengthAsync = (text: string) => counter.encodedLengthAsync(text);

/** What the published tokenizer counts for the whole text in one WASM call (the reference). */
const reference = (text: string) => sharedTokenizer().encode(text.normalize("NFKC"), "all").length;

/** Deterministic PRNG so a failure names a reproducible case. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const ALPHABET = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..." \t\n\r\u00a0\u2003\u3000",
  ..."'\".,;:!?()[]{}<>/\\|-_=+*&^%$#@~`",
  ..."éüßçøñ✓→—…",
  ..."中文字符日本語한국어",
  "😀", "👍🏽", "\u0301", "²", "ﬁ", "Ⅻ",
  "'s", "'re", "'ll", "<EOT>", "<META>", "<META_START>", "<META_END>", "<SOS>", "<EO",
];

describe("piece-cached token count", () => {
  test("each counter remembers its own pieces, and a fresh one counts the same", () => {
    const a = new TokenCounter();
    const b = new TokenCounter();
    const text = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";
    const n = a.encodedLength(text);
    expect(n).toBe(reference(text));
    expect(a.remembered).toBeGreaterThan(5);
    expect(b.remembered).toBe(0);
    expect(b.encodedLength(text)).toBe(n);
    expect(b.remembered).toBe(a.remembered);
  });

  test("equals the whole-text WASM encode on prose, code, JSON and the Claude Code fixture", () => {
    const texts = [
      readFileSync("README.md", "utf8"),
      readFileSync("src/turn/run.ts", "utf8"),
      readFileSync("docs/errors.md", "utf8"),
      readFileSync("tests/fixtures/claude-code/messages-adaptive.json", "utf8"),
      JSON.stringify(JSON.parse(readFileSync("tests/fixtures/claude-code/messages-adaptive.json", "utf8")).tools),
    ];
    for (const t of texts) {
      expect(encodedLength(t)).toBe(reference(t));
      // And again with every piece now cached.
      expect(encodedLength(t)).toBe(reference(t));
    }
  });

  test("equals the whole-text encode on 3,000 random mixed-script strings (whitespace runs, special tokens, NFKC forms)", () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      let s = "";
      const len = 1 + Math.floor(r() * 60);
      for (let j = 0; j < len; j++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
      if (encodedLength(s) !== reference(s)) throw new Error(`count differs for ${JSON.stringify(s)}: ${encodedLength(s)} vs ${reference(s)}`);
    }
  });

  test("special-token strings count one token each, as encode(…, 'all') does", () => {
    expect(encodedLength("<EOT>")).toBe(1);
    expect(encodedLength("a<META>b<SOS>")).toBe(reference("a<META>b<SOS>"));
  });

  test("long pieces (base64, minified runs) are counted without being cached", () => {
    const b64 = Buffer.alloc(3000, 7).toString("base64");
    expect(encodedLength(b64)).toBe(reference(b64));
    expect(encodedLength("")).toBe(0);
  });

  test("pieces longer than a window (no whitespace: base64, letters, CJK, emoji, digits) equal the whole-piece encode", () => {
    const r = rng(11);
    const from = (alphabet: string[], n: number) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
    const letters = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
    const cases = [
      Buffer.alloc(6000, 7).toString("base64"),
      Buffer.from(Array.from({ length: 6000 }, () => Math.floor(r() * 256))).toString("base64"),
      from(letters, 8000),
      from([..."etaoinshrdlu"], 8000),
      "Donaudampfschifffahrtsgesellschaftskapitän".repeat(150),
      "Z".repeat(8000),
      from([..."中文字符日本語한국어的一是不了人我在有他这"], 3000),
      from([..."éüßçøñaeiou"], 5000),
      from([..."!@#$%^&*()_+-=[]{};:,./?"], 6000),
      from([..."0123456789"], 6000),
      from(["😀", "👍🏽", "🎉", "x"], 1500),
    ];
    for (const t of cases) expect(encodedLength(t)).toBe(reference(t));
  });

  test("the JavaScript byte-pair encoder makes the WASM encoder's tokens (their byte lengths), short and long pieces", () => {
    const vocab = readVocab();
    const ranks = parseRanks(vocab.bpe_ranks);
    const wasm = sharedTokenizer();
    const re = new RegExp(vocab.pat_str, "gu");
    const r = rng(3);
    const pieces = [...readFileSync("src/turn/run.ts", "utf8").matchAll(re)].map((m) => m[0]).slice(0, 3000);
    pieces.push("Z".repeat(300), Buffer.from(Array.from({ length: 200 }, () => Math.floor(r() * 256))).toString("base64"), "中文字符日本語한국어".repeat(20), "😀👍🏽".repeat(40));
    for (const p of pieces) {
      const lens: number[] = [];
      const n = bpeTokenLengths(utf8Binary(p), ranks, lens);
      const ids = wasm.encode_ordinary(p);
      const expected = [...ids].map((id) => wasm.decode_single_token_bytes(id).length);
      if (n !== ids.length || lens.join() !== expected.join()) throw new Error(`tokens differ for ${JSON.stringify(p)}: ${lens} vs ${expected}`);
    }
  });

  test("cost is linear: 'Z' × 1,000,000 and 1 MB of random letters each count in a bounded time (~0.2–0.4 s idle)", () => {
    // Whole-piece BPE is quadratic: 16 KB of one letter took 91 ms, 400 KB took ~40 s.
    const r = rng(5);
    for (const t of ["Z".repeat(1_000_000), Array.from({ length: 1_000_000 }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join("")]) {
      const t0 = performance.now();
      const n = encodedLength(t);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(n).toBeGreaterThan(t.length / 8);
    }
  });

  test("the sliced count equals the synchronous one and yields to the event loop between slices", async () => {
    const text = `${readFileSync("README.md", "utf8")}<EOT>${"Q".repeat(200_000)} tail <META> ${"中文".repeat(20_000)}`;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const n = await encodedLengthAsync(text);
    clearInterval(timer);
    expect(n).toBe(encodedLength(text));
    expect(ticks).toBeGreaterThan(0);
  });
});
