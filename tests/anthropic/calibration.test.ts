/**
 * count_tokens vs usage: the local tokenizer estimate is calibrated per model by what the upstream
 * reports (contextUsagePercentage × window), so count_tokens, message_start and the fallback usage
 * agree with the usage of a real request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic1 from "@anthropic-ai/sdk";
import { startE2E, type E2E } from "../support/e2e";
import { textScenario, textSteps, usageSteps } from "../fake-kiro/scenarios";
import { countTextTokens } from "../../src/core/tokens/estimate";
import { CALIBRATION_MIN_TOKENS, InputCalibration, finalUsage } from "../../src/core/usage";
import { model } from "../support/models";
import { parseSse } from "./sse";

// Each test its own calibration (the server's lives in its services, created at boot).
let cal = new InputCalibration();
beforeEach(() => {
  cal = new InputCalibration();
});
const inputCalibration = (key: string) => cal.ratio(key);
const calibratedInputTokens = (key: string, estimate: number) => cal.calibrated(key, estimate);
const observeInputTokens = (key: string, upstream: number, estimate: number) => cal.observe(key, upstream, estimate);
const resetInputCalibration = () => {
  cal = new InputCalibration();
};

describe("calibration API", () => {
  test("first observation sets the ratio, later ones move it as a moving average", () => {
    expect(inputCalibration("m")).toBe(1);
    expect(calibratedInputTokens("m", 2000)).toBe(2000);
    observeInputTokens("m", 3000, 2000);
    expect(inputCalibration("m")).toBeCloseTo(1.5, 6);
    expect(calibratedInputTokens("m", 2000)).toBe(3000);
    observeInputTokens("m", 2000, 2000);
    expect(inputCalibration("m")).toBeCloseTo(1.35, 6);
    // Per model.
    expect(inputCalibration("other")).toBe(1);
  });

  test("bounded to [0.5, 2]; small prompts and empty counts teach nothing", () => {
    observeInputTokens("big", 50_000, 2000);
    expect(inputCalibration("big")).toBe(2);
    observeInputTokens("small", 10, 5000);
    expect(inputCalibration("small")).toBe(0.5);
    observeInputTokens("tiny", 24_680, CALIBRATION_MIN_TOKENS - 1);
    observeInputTokens("tiny", 0, 5000);
    expect(inputCalibration("tiny")).toBe(1);
  });

  test("finalUsage with a calibrationKey learns from upstream input and calibrates a local estimate", () => {
    const base = {
      contextWindow: 200_000,
      estimatedInputTokens: 4000,
      outputEstimate: () => 10,
      // A getter: resetInputCalibration() below swaps the table.
      get calibration() {
        return { key: "k", table: cal };
      },
    };
    // 3 % of 200k = 6,000 total, minus 10 output → 5,990 input for a 4,000-token estimate.
    expect(finalUsage({ ...base, upstream: {}, contextUsagePercentage: 3 }).inputTokens).toBe(5990);
    expect(inputCalibration("k")).toBeCloseTo(5990 / 4000, 6);
    // Upstream token counts (cache reads included in the ratio) also teach it.
    resetInputCalibration();
    finalUsage({ ...base, upstream: { inputTokens: 3000, cacheReadInputTokens: 1000, outputTokens: 5 } });
    expect(inputCalibration("k")).toBeCloseTo(1, 6);
    // No upstream input: the local estimate is calibrated.
    observeInputTokens("k", 6000, 4000);
    expect(finalUsage({ ...base, upstream: {} }).inputTokens).toBe(calibratedInputTokens("k", 4000));
    // Without a key nothing is learnt or changed.
    resetInputCalibration();
    expect(finalUsage({ ...base, calibration: undefined, upstream: {}, contextUsagePercentage: 3 }).inputTokens).toBe(5990);
    expect(inputCalibration("k")).toBe(1);
  });
});

describe("count_tokens agrees with the usage the upstream reported", () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  });
  afterAll(async () => {
    await e.stop();
  });

  const MODEL = "claude-sonnet-4-6";
  // A prompt well above CALIBRATION_MIN_TOKENS, in varied words so the tokenizer count is realistic.
  const words = "river copper lantern orbit velvet thunder meadow cipher harbor quartz ember falcon".split(" ");
  const prompt = Array.from({ length: 2400 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(" ");
  const body = { model: MODEL, system: "You summarise text.", messages: [{ role: "user" as const, content: prompt }] };

  test("one upstream-reported request calibrates count_tokens, message_start and the fallback usage", async () => {
    const c = new Anthropic1({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
    const local = (await c.messages.countTokens(body)).input_tokens;
    expect(local).toBeGreaterThan(CALIBRATION_MIN_TOKENS);

    // The upstream counts 40 % more input than our tokenizer: pct × window = input + output.
    const window = model(MODEL).contextWindow;
    const upstreamInput = Math.round(local * 1.4);
    const answer = "Done.";
    const pct = ((upstreamInput + countTextTokens(answer)) / window) * 100;
    e.fake.enqueue({ steps: [...textSteps(answer, 1), ...usageSteps({ contextUsagePercentage: pct })] });
    const msg = await c.messages.create({ ...body, max_tokens: 64 });
    const reported = msg.usage.input_tokens;
    expect(Math.abs(reported - upstreamInput)).toBeLessThanOrEqual(2);

    const counted = (await c.messages.countTokens(body)).input_tokens;
    expect(Math.abs(counted - reported) / reported).toBeLessThan(0.03);
    expect(counted / local).toBeGreaterThan(1.35);

    // A later request without upstream usage: message_start and the final usage use the same number.
    e.fake.enqueue(textScenario("Again.", { usage: false }));
    const r = await fetch(`${e.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": e.clientKey, "content-type": "application/json" },
      body: JSON.stringify({ ...body, max_tokens: 64, stream: true }),
    });
    const ev = parseSse(await r.text());
    const start = ev.find((x) => x.event === "message_start")!.data.message.usage.input_tokens;
    const final = ev.find((x) => x.event === "message_delta")!.data.usage.input_tokens;
    expect(start).toBe(counted);
    expect(final).toBe(counted);
  });

  test("a small prompt's upstream count does not skew the calibration", async () => {
    const c = new Anthropic1({ baseURL: e.url, apiKey: e.clientKey, maxRetries: 0 });
    const small = { model: MODEL, messages: [{ role: "user" as const, content: "hi" }] };
    const before = (await c.messages.countTokens(small)).input_tokens;
    const ratio = e.services.calibration.ratio(model(MODEL).upstreamId);
    // Default fake usage: 12.34 % of the window for a two-token prompt.
    e.fake.enqueue(textScenario("Hello."));
    await c.messages.create({ ...small, max_tokens: 16 });
    expect((await c.messages.countTokens(small)).input_tokens).toBe(before);
    expect(e.services.calibration.ratio(model(MODEL).upstreamId)).toBe(ratio);
  });
});
