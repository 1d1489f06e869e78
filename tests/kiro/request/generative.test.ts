/**
 * Acceptance test: thousands of random canonical conversations (seeded, reproducible) must all
 * build into bodies the strict fake-upstream validator accepts — or, when genuinely too large,
 * fail early with input_too_long.
 */
import { describe, expect, test } from "bun:test";
import type { AssistantPart, CanonicalMessage, CanonicalRequest, ToolDefinition, UserPart } from "../../../src/core/canonical";
import { KiroError } from "../../../src/kiro/errors";
import { buildKiroRequest } from "../../../src/kiro/request/build";
import { validateGenerateAssistantRequest } from "../../fake-kiro/validator";
import { JPEG_16, PNG_1x1, model, pngOfSize } from "./helpers";

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219",
  "claude-3-5-haiku-20241022", "claude-haiku-4-5-20251001", "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-5",
  "claude-sonnet-4.5", "CLAUDE_SONNET_4_5_20250929_V1_0", "claude-opus-4-1", "claude-sonnet-4-5-thinking", "auto"];
const NAMES = ["Bash", "bash", "read_file", "Edit", "web.search", "my tool", "", "搜索",
  "mcp__github__" + "x".repeat(57), "mcp__github__" + "x".repeat(56) + "y", "a".repeat(64), "b".repeat(65)];
const HISTORY_ONLY = ["OldTool", "legacy.tool", "q".repeat(70)];

type Stats = Record<string, number>;

function gen(rand: () => number, stats: Stats): CanonicalRequest {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chance = (p: number) => rand() < p;
  const bump = (k: string) => { stats[k] = (stats[k] ?? 0) + 1; };
  const text = (): string => {
    const r = rand();
    if (r < 0.1) { bump("empty text"); return ""; }
    if (r < 0.2) { bump("whitespace text"); return pick([" ", "\n\n", "\t "]); }
    if (r < 0.22) { bump("big text"); return "lorem ipsum ".repeat(5_000 + Math.floor(rand() * 30_000)); }
    return `text ${Math.floor(rand() * 1e6)} ${"word ".repeat(Math.floor(rand() * 20))}`;
  };

  const tools: ToolDefinition[] = [];
  for (let i = 0, n = Math.floor(rand() * 5); i < n; i++) {
    const name = pick(NAMES);
    if (name.length > 64) bump("long tool name");
    const r = rand();
    const description = r < 0.15 ? (bump("empty description"), "") : r < 0.3 ? (bump("huge description"), "d".repeat(10_241 + Math.floor(rand() * 10_000))) : `Tool ${name}`;
    const s = rand();
    const inputSchema: any = s < 0.15 ? (bump("missing schema"), undefined)
      : s < 0.25 ? { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { a: { type: "string" } }, required: [] }
      : s < 0.35 ? { type: "string" }
      : s < 0.42 ? { type: "object", properties: { t: { type: "array", prefixItems: [{ type: "number" }] } }, required: ["t", 3] }
      : s < 0.5 ? "not a schema"
      : { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    tools.push({ name, description, inputSchema });
  }

  const messages: CanonicalMessage[] = [];
  let lastUses: string[] = [];
  let useCounter = 0;
  for (let i = 0, n = Math.floor(rand() * 12); i < n; i++) {
    const role = i === 0 && chance(0.15) ? (bump("assistant first"), "assistant") : chance(0.5) ? "user" : "assistant";
    if (messages.length && messages[messages.length - 1].role === role) bump("same-role run");
    if (role === "user") {
      const content: UserPart[] = [];
      for (let j = 0, m = 1 + Math.floor(rand() * 3); j < m; j++) {
        const r = rand();
        if (r < 0.45) content.push({ type: "text", text: text() });
        else if (r < 0.55) {
          bump("image");
          const data = pick([PNG_1x1, JPEG_16, PNG_1x1, "bm90IGFuIGltYWdl", pngOfSize(9000, 9000), "%%%"]);
          content.push({ type: "image", mediaType: pick(["image/png", "image/jpeg", "image/gif", "image/webp"] as const), data });
        } else {
          const orphan = lastUses.length === 0 || chance(0.2);
          if (orphan) bump("orphan result");
          const id = orphan ? `orphan_${Math.floor(rand() * 1000)}` : pick(lastUses);
          content.push({ type: "tool_result", toolUseId: id, isError: chance(0.2),
            content: chance(0.1) ? [] : chance(0.1) ? [{ type: "image", mediaType: "image/png", data: PNG_1x1 }] : [{ type: "text", text: text() }] });
        }
      }
      messages.push({ role: "user", content });
      lastUses = [];
    } else {
      const content: AssistantPart[] = [];
      const uses: string[] = [];
      for (let j = 0, m = 1 + Math.floor(rand() * 3); j < m; j++) {
        const r = rand();
        if (r < 0.4) content.push({ type: "text", text: text() });
        else if (r < 0.5) content.push({ type: "thinking", text: text(), ...(chance(0.5) ? { signature: "sig" } : {}) });
        else {
          const historyOnly = chance(0.25);
          if (historyOnly) bump("history-only tool");
          const name = historyOnly || tools.length === 0 ? pick([...HISTORY_ONLY, ...NAMES]) : pick(tools).name;
          const id = chance(0.05) ? "" : chance(0.05) && uses.length ? uses[0] : `tooluse_${useCounter++}`;
          if (id) uses.push(id);
          content.push({ type: "tool_use", id, name, input: pick([{ a: "x" }, '{"a":1}', "raw", [1], null, { "": 1, b: 2 }]) });
        }
      }
      if (uses.length && chance(0.3)) bump("unanswered tool use");
      messages.push({ role: "assistant", content });
      lastUses = uses;
    }
  }
  if (messages.length === 0) bump("system only / empty");

  const tc = rand();
  const toolChoice = tc < 0.5 ? undefined : tc < 0.6 ? { type: "auto" as const } : tc < 0.7 ? { type: "any" as const }
    : tc < 0.8 ? { type: "none" as const } : tools.length ? { type: "tool" as const, name: pick(tools).name } : undefined;
  const th = rand();
  const thinking = th < 0.6 ? { type: "disabled" as const } : th < 0.8
    ? { type: "enabled" as const, budgetTokens: Math.floor(rand() * 50_000) }
    : { type: "adaptive" as const, ...(chance(0.5) ? { effort: pick(["low", "medium", "high", "max"] as const) } : {}) };
  return {
    model: model(pick(MODELS)),
    system: chance(0.5) ? text() : "",
    messages,
    tools,
    toolChoice,
    parallelToolCalls: chance(0.5) ? chance(0.5) : undefined,
    maxTokens: 1024,
    stopSequences: [],
    thinking,
    responseFormatInstruction: chance(0.1) ? "Respond with a JSON object." : undefined,
    metadata: { dialect: chance(0.5) ? "openai" : "anthropic" },
  };
}

/** Characters of text the request carries, to judge whether "too long" is plausible. */
function inputChars(r: CanonicalRequest): number {
  return JSON.stringify({ s: r.system, m: r.messages, t: r.tools }).length;
}

describe("generative: random conversations always build into valid requests", () => {
  // CPU-bound (~1 s alone); the explicit timeout keeps it from flaking when the machine is busy.
  test("3,000 seeded conversations", () => {
    const rand = mulberry32(20260129);
    const stats: Stats = {};
    let ok = 0;
    let tooLong = 0;
    let noArn = 0;
    let renamedChecked = 0;
    const t0 = performance.now();
    for (let i = 0; i < 3000; i++) {
      const r = gen(rand, stats);
      let built;
      // A third of the cases are profile-less accounts (Builder ID / IdC without profile, B/C hosts).
      const withArn = i % 3 !== 0;
      try {
        built = buildKiroRequest(r, withArn ? { profileArn: "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF" } : {});
      } catch (e) {
        if (e instanceof KiroError && e.cls === "input_too_long") {
          // Only genuinely large inputs may be refused: ≥ the 700,000-char budget of the smallest window.
          expect(inputChars(r)).toBeGreaterThan(600_000);
          tooLong++;
          continue;
        }
        throw new Error(`case ${i} threw ${(e as Error).message}\n${JSON.stringify(r).slice(0, 3000)}`);
      }
      const v = validateGenerateAssistantRequest(built.body);
      if (!v.ok) {
        throw new Error(`case ${i}: ${v.reason}: ${v.message}\nrequest: ${JSON.stringify(r).slice(0, 3000)}\nbody: ${JSON.stringify(built.body).slice(0, 3000)}`);
      }
      const body = built.body as any;
      expect("profileArn" in body).toBe(withArn);
      if (!withArn) noArn++;
      // Tool names are reversible: every upstream name (declared or used in history) restores to a
      // name the client sent, and shortening that name again gives the same upstream name.
      const clientNames = new Set<string>([
        ...r.tools.map((t) => t.name),
        ...r.messages.flatMap((m) => (m.role === "assistant" ? m.content.flatMap((p) => (p.type === "tool_use" ? [p.name] : [])) : [])),
      ]);
      const upstreamNames: string[] = [
        ...(body.conversationState.currentMessage.userInputMessage.userInputMessageContext?.tools ?? []).map((t: any) => t.toolSpecification.name),
        ...(body.conversationState.history ?? []).flatMap((h: any) => (h.assistantResponseMessage?.toolUses ?? []).map((u: any) => u.name)),
      ];
      for (const short of upstreamNames) {
        const original = built.toolNames.restore(short);
        if (!clientNames.has(original)) throw new Error(`case ${i}: upstream tool ${short} restores to ${original}, not a client tool name`);
        expect(built.toolNames.toShort(original)).toBe(short);
        renamedChecked += short === original ? 0 : 1;
      }
      ok++;
    }
    const ms = performance.now() - t0;
    console.log(`generative: ${ok} valid, ${tooLong} input_too_long in ${ms.toFixed(0)} ms`, stats);
    expect(ok + tooLong).toBe(3000);
    expect(ok).toBeGreaterThan(2500);
    expect(tooLong).toBeGreaterThan(0);
    expect(noArn).toBeGreaterThan(800);
    expect(renamedChecked).toBeGreaterThan(100); // shortened / sanitized names really were round-tripped
    // The generator really exercised every awkward shape.
    for (const k of ["empty text", "whitespace text", "image", "orphan result", "unanswered tool use", "history-only tool",
      "long tool name", "huge description", "missing schema", "same-role run", "assistant first", "system only / empty"]) {
      expect(stats[k] ?? 0).toBeGreaterThan(10);
    }
  }, 20_000);
});
