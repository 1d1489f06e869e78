import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { encodedLength, sharedTokenizer } from "../../../src/core/tokens/tokenizer";

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
});
