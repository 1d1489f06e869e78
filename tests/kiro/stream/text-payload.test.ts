/**
 * assistantResponseEvent payloads: the decoder reads `{"content":"…"}` without JSON.parse when
 * nothing in it is escaped; every other form must give exactly what JSON.parse gives (or the same
 * error for a malformed payload).
 */
import { describe, expect, test } from "bun:test";
import { encodeFrame } from "../../fake-kiro/frames";
import { collect, collectUntilError, textOf } from "./helpers";

const HEADERS = { ":event-type": "assistantResponseEvent", ":content-type": "application/json", ":message-type": "event" };
const raw = (payload: string) => encodeFrame(HEADERS, new TextEncoder().encode(payload));

describe("assistantResponseEvent payload text", () => {
  const cases: Array<[string, string]> = [
    ["plain", '{"content":"Hello, world"}'],
    ["non-ASCII and emoji", '{"content":"wörld 👋 漢字"}'],
    ["escaped newline and tab", '{"content":"a\\nb\\tc"}'],
    ["escaped quote and backslash", '{"content":"say \\"hi\\" C:\\\\dir"}'],
    ["unicode escape", '{"content":"\\u00e9\\ud83d\\udc4b"}'],
    ["escaped solidus", '{"content":"a\\/b"}'],
    ["modelId after the content", '{"content":"text","modelId":"claude-sonnet-4.5"}'],
    ["modelId before the content", '{"modelId":"claude-sonnet-4.5","content":"text"}'],
    ["a later duplicate key wins", '{"content":"first","content":"second"}'],
    ["whitespace between tokens", '{ "content" : "spaced" }'],
    ["content that looks like the payload's end", '{"content":"x\\"}"}'],
  ];
  for (const [name, payload] of cases) {
    test(name, async () => {
      const evs = await collect([raw(payload)]);
      expect(textOf(evs)).toBe((JSON.parse(payload) as { content: string }).content);
    });
  }

  test("an empty content gives no text event", async () => {
    const evs = await collect([raw('{"content":""}')]);
    expect(evs.filter((e) => e.type === "text")).toEqual([]);
  });

  test("a raw control character inside the string is malformed JSON, as the parser says", async () => {
    const { error } = await collectUntilError([raw('{"content":"line\nbreak"}')]);
    expect(error.cls).toBe("transient");
    expect(error.message).toContain("malformed JSON payload");
  });

  test("a payload cut short is malformed JSON", async () => {
    const { error } = await collectUntilError([raw('{"content":"cut')]);
    expect(error.message).toContain("malformed JSON payload");
  });
});
