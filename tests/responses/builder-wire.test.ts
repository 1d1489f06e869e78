/**
 * The Responses builder's SSE bytes, whole streams, against a recording made when every event was
 * written as `JSON.stringify(eventObject)`: the hand-assembled frames (delta templates, item JSON
 * reused by the terminal event, the response head serialised once) must not change one byte.
 * Scenarios cover text, reasoning, every tool form, web searches with citations, a held JSON
 * reply, max_output_tokens, a failure, and an echo holding the marker characters and keys named
 * like the response's own fields.
 *
 * Re-record (only after a deliberate wire change): RECORD=1 bun test tests/responses/builder-wire.test.ts
 */
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import type { CanonicalEvent } from "../../src/core/canonical";
import { TurnError } from "../../src/core/errors";
import { ResponseBuilder } from "../../src/dialects/responses/builder";
import type { ResponsesExtra } from "../../src/dialects/responses/decode";
import { storedForm } from "../../src/dialects/responses/storage";
import { decodeTools } from "../../src/dialects/responses/tools";

const FIXTURE = `${import.meta.dir}/fixtures/builder-wire.json`;

const extra = (over: Partial<ResponsesExtra> = {}): ResponsesExtra => ({
  responseId: "resp_0123456789abcdef0123456789abcdef",
  createdAt: 1_790_000_000,
  clientKeyId: "k",
  store: true,
  tools: decodeTools([{ type: "custom", name: "apply_patch" }, { type: "function", name: "f" }, { type: "local_shell" }, { type: "web_search" }]),
  includeEncrypted: false,
  echo: { instructions: "be brief", tools: [{ type: "function", name: "f", output: [] }], metadata: { k: "v" }, store: true },
  input: [],
  ...over,
});

const text = (t: string): CanonicalEvent => ({ type: "text", text: t });
const usage: CanonicalEvent = { type: "usage", usage: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 5 } };

type Scenario = { name: string; extra?: Partial<ResponsesExtra>; batches: CanonicalEvent[][]; fail?: unknown };

const SCENARIOS: Scenario[] = [
  { name: "text", batches: [[text("Hello")], [text(" wörld \"quoted\"\n\t\u0001 ✓ 😀"), text("!")], [usage, { type: "stop", reason: "end_turn" }]] },
  {
    name: "reasoning, function, custom, shell",
    extra: { includeEncrypted: true },
    batches: [
      [{ type: "thinking", text: "hmm \"q\"\n" }, { type: "thinking", text: "", signature: "sig" }],
      [text("Calling.")],
      [{ type: "tool_start", id: "t1", name: "f" }, { type: "tool_args", id: "t1", json: '{"a":' }, { type: "tool_args", id: "t1", json: "1}" }, { type: "tool_end", id: "t1" }],
      [{ type: "tool_start", id: "t2", name: "apply_patch" }, { type: "tool_args", id: "t2", json: '{"input":"*** Begin Patch\\n*** End Patch"}' }, { type: "tool_end", id: "t2" }],
      [{ type: "tool_start", id: "t3", name: "local_shell" }, { type: "tool_args", id: "t3", json: '{"command":"ls -la","workdir":"/tmp"}' }, { type: "tool_end", id: "t3" }],
      [usage, { type: "stop", reason: "tool_use" }],
    ],
  },
  {
    name: "web search with citations, sources included",
    extra: { includeSources: true },
    batches: [
      [{ type: "server_tool_use", id: "s1", name: "web_search", input: { query: "bun \"runtime\"" } }],
      [{ type: "web_search_result", toolUseId: "s1", hits: [{ url: "https://bun.sh/", title: "Bun — fast" }, { url: "https://ex.com/a?b=1&c=\"2\"", title: "Ex" }] }],
      [{ type: "server_tool_use", id: "s2", name: "web_search", input: { query: "fails" } }],
      [{ type: "web_search_error", toolUseId: "s2", code: "unavailable", message: "no account" }],
      [{ type: "cited_text", text: "Bun is fast.", citations: [{ url: "https://bun.sh/", title: "Bun — fast", citedText: "Bun is fast" }] }, text(" See https://ex.com/a?b=1&c=\"2\" too.")],
      [usage, { type: "stop", reason: "end_turn" }],
    ],
  },
  { name: "search still open at the end", batches: [[{ type: "server_tool_use", id: "s1", name: "web_search", input: { query: "q" } }], [text("no result")], [{ type: "stop", reason: "end_turn" }]] },
  { name: "JSON reply held, then checked", extra: { format: { type: "json_object" } }, batches: [[text('{"a":')], [text(' "x\\n"}')], [usage, { type: "stop", reason: "end_turn" }]] },
  { name: "max_output_tokens", batches: [[text("cut")], [{ type: "usage", usage: { outputTokens: 3 } }, { type: "stop", reason: "max_tokens" }]] },
  { name: "refusal", batches: [[text("no")], [{ type: "stop", reason: "refusal" }]] },
  { name: "failure mid-answer", batches: [[{ type: "thinking", text: "t" }], [text("partial")]], fail: new TurnError("input_too_long", "prompt is \"too\" long") },
  { name: "failure while searching", batches: [[{ type: "server_tool_use", id: "s1", name: "web_search", input: { query: "q" } }]], fail: new Error("boom") },
  {
    name: "echo with markers and reserved-looking keys",
    extra: { echo: { instructions: "\u0000status\u0000 \u0000output\u0000", tools: [{ type: "function", name: "f", output: [], usage: null, status: "x" }], metadata: { output: "[]", usage: "\u0000usage\u0000" }, user: null, text: { format: { type: "text" } } } },
    batches: [[text("ok")], [usage, { type: "stop", reason: "end_turn" }]],
  },
  { name: "empty answer", batches: [[{ type: "stop", reason: "end_turn" }]] },
];

function run(s: Scenario): string {
  const b = new ResponseBuilder(extra(s.extra), "claude-sonnet-4-5", true);
  b.start();
  let out = b.take();
  for (const batch of s.batches) {
    for (const e of batch) b.push(e);
    out += b.take();
  }
  if (s.fail !== undefined) b.fail(s.fail);
  else b.end();
  return out + b.take();
}

test("every scenario's stream is byte-identical to the recording", () => {
  const now = Object.fromEntries(SCENARIOS.map((s) => [s.name, run(s)]));
  if (process.env.RECORD === "1") writeFileSync(FIXTURE, `${JSON.stringify(now, null, 1)}\n`);
  const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, string>;
  expect(Object.keys(recorded).sort()).toEqual(Object.keys(now).sort());
  for (const s of SCENARIOS) expect({ name: s.name, sse: now[s.name] }).toEqual({ name: s.name, sse: recorded[s.name]! });
});

test("the recording is what serialising each event object gives (canonical JSON, one event per frame)", () => {
  const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, string>;
  let frames = 0;
  for (const sse of Object.values(recorded)) {
    for (const block of sse.split("\n\n").filter(Boolean)) {
      const [ev, data, ...rest] = block.split("\n");
      expect(rest).toEqual([]);
      const obj = JSON.parse(data!.slice(6));
      expect(ev).toBe(`event: ${obj.type}`);
      expect(data).toBe(`data: ${JSON.stringify(obj)}`);
      frames++;
    }
  }
  expect(frames).toBeGreaterThan(100);
});

test("a streamed response's stored JSON is the text serialising its stored form gives", () => {
  let checked = 0;
  // Each also with encrypted reasoning and search sources hidden, where the replayed items differ.
  const hidden = { includeEncrypted: false, includeSources: false };
  for (const s of SCENARIOS.filter((s) => s.fail === undefined).flatMap((s) => [s, { ...s, extra: { ...s.extra, ...hidden } }])) {
    const b = new ResponseBuilder(extra(s.extra), "claude-sonnet-4-5", true);
    b.start();
    for (const batch of s.batches) for (const e of batch) b.push(e);
    const f = b.end();
    const json = f.storedJson!();
    expect({ name: s.name, output: json.output }).toEqual({ name: s.name, output: JSON.stringify(f.replayOutput) });
    expect({ name: s.name, response: json.response }).toEqual({ name: s.name, response: JSON.stringify(storedForm(f.response, f.replayOutput)) });
    if (json.response.includes('{"$output":')) checked++;
  }
  // Most scenarios store at least one item by reference.
  expect(checked).toBeGreaterThanOrEqual(12);
});
