/**
 * POST /v1/responses/input_tokens (`client.responses.inputTokens.count`, openai 6 and 7): the
 * prompt a response to the same body would send, counted locally (no upstream call, nothing
 * stored), the stored conversation of `previous_response_id` included; errors in the Responses
 * shape naming the field, as `POST /v1/responses` gives them.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { textScenario } from "../fake-kiro/scenarios";
import { useE2E } from "../support/e2e";
import { OPENAI_SDKS, openaiClient, postJson } from "../support/openai-clients";

const e = useE2E();
const MODEL = "claude-sonnet-4-5";
let otherKey: string;
beforeAll(async () => {
  otherKey = (await e.services.keys.create({ name: "other" })).key;
});

const weather = { type: "function" as const, name: "get_weather", description: "Weather for a city", strict: false, parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const PARAGRAPH = "The quick brown fox jumps over the lazy dog, then naps under the old oak tree until sunset. ";

/** Upstream chat calls and stored responses so far: a count must change neither. */
async function sideEffects() {
  await e.services.responses.flush();
  return { upstream: e.fake.requests.length, stored: await e.services.responses.count() };
}

for (const [label, OpenAI] of OPENAI_SDKS) {
  describe(`${label} responses.inputTokens.count`, () => {
    const client = () => openaiClient(OpenAI, e);

    test("counts the prompt: more input, instructions and tools count more; nothing is sent or stored", async () => {
      const before = await sideEffects();
      const short = await client().responses.inputTokens.count({ model: MODEL, input: "hello" });
      expect(short.object).toBe("response.input_tokens");
      expect(short.input_tokens).toBeGreaterThan(0);
      const long = await client().responses.inputTokens.count({ model: MODEL, input: `hello ${PARAGRAPH.repeat(20)}` });
      expect(long.input_tokens).toBeGreaterThan(short.input_tokens + 20 * 15);
      const withInstructions = await client().responses.inputTokens.count({ model: MODEL, input: "hello", instructions: PARAGRAPH });
      expect(withInstructions.input_tokens).toBeGreaterThan(short.input_tokens + 10);
      const withTools = await client().responses.inputTokens.count({ model: MODEL, input: "hello", tools: [weather] });
      expect(withTools.input_tokens).toBeGreaterThan(short.input_tokens + 5);
      // Items, not only a string: the same text as a message counts the same.
      const items = await client().responses.inputTokens.count({ model: MODEL, input: [{ role: "user", content: [{ type: "input_text", text: "hello" }] }] });
      expect(items.input_tokens).toBe(short.input_tokens);
      expect(await sideEffects()).toEqual(before);
    });

    test("a stored conversation named by previous_response_id is counted too", async () => {
      e.fake.enqueue(textScenario(PARAGRAPH.repeat(10)));
      const first = await client().responses.create({ model: MODEL, input: "Tell me a story." });
      const alone = await client().responses.inputTokens.count({ model: MODEL, input: "And then?" });
      const continued = await client().responses.inputTokens.count({ model: MODEL, input: "And then?", previous_response_id: first.id });
      expect(continued.input_tokens).toBeGreaterThan(alone.input_tokens + 10 * 15);
    });

    test("no body at all, or no model: still a count", async () => {
      const empty = await client().responses.inputTokens.count();
      expect(empty.object).toBe("response.input_tokens");
      expect(empty.input_tokens).toBeGreaterThanOrEqual(1);
      const noModel = await client().responses.inputTokens.count({ input: `hello ${PARAGRAPH}` });
      expect(noModel.input_tokens).toBeGreaterThan(15);
    });

    test("errors are the SDK's errors with the field named", async () => {
      const unknownPrev = await client()
        .responses.inputTokens.count({ model: MODEL, input: "x", previous_response_id: "resp_0123456789abcdef0123456789abcdef" })
        .then(() => undefined, (err: { status?: number; param?: string; code?: string }) => err);
      expect(unknownPrev).toMatchObject({ status: 400, param: "previous_response_id", code: "previous_response_not_found" });
      const unknownModel = await client()
        .responses.inputTokens.count({ model: "gpt-4o", input: "x" })
        .then(() => undefined, (err: { status?: number; param?: string }) => err);
      expect(unknownModel).toMatchObject({ status: 404, param: "model" });
    });
  });
}

describe("POST /v1/responses/input_tokens on the wire", () => {
  const count = (body: unknown, key = e.clientKey, path = "/v1/responses/input_tokens") => postJson({ url: e.url, clientKey: key }, path, body);

  test("the same prompt as an Anthropic count_tokens body counts the same", async () => {
    const r = await (await count({ model: MODEL, instructions: "Be brief.", input: `Summarise: ${PARAGRAPH}`, tools: [weather] })).json();
    const a = await fetch(`${e.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "x-api-key": e.clientKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({
        model: MODEL,
        system: "Be brief.",
        messages: [{ role: "user", content: `Summarise: ${PARAGRAPH}` }],
        tools: [{ name: weather.name, description: weather.description, input_schema: weather.parameters }],
      }),
    });
    expect(a.status).toBe(200);
    expect(r.input_tokens).toBe((await a.json()).input_tokens);
  });

  test("the un-prefixed alias answers too", async () => {
    const r = await count({ model: MODEL, input: "hello" }, e.clientKey, "/responses/input_tokens");
    expect(r.status).toBe(200);
    expect((await r.json()).object).toBe("response.input_tokens");
  });

  const cases: Array<[string, unknown, number, string | null]> = [
    ["another key's response", null, 400, "previous_response_id"],
    ["malformed tool", { model: MODEL, input: "x", tools: [{ type: "function", parameters: {} }] }, 400, "tools[0].name"],
    ["unknown item type", { model: MODEL, input: [{ type: "message", role: "robot", content: "x" }] }, 400, "input[0].role"],
    ["conversation object", { model: MODEL, input: "x", conversation: "conv_1" }, 400, "conversation"],
    ["model not a string", { model: 7, input: "x" }, 400, "model"],
    ["not JSON", "{nope", 400, "body"],
  ];
  for (const [name, given, status, param] of cases) {
    test(`${name} → ${status} naming ${param}`, async () => {
      let body = given;
      if (body === null) {
        e.fake.enqueue(textScenario("mine"));
        const mine = await (await postJson(e, "/v1/responses", { model: MODEL, input: "x" })).json();
        body = { model: MODEL, input: "more", previous_response_id: mine.id };
      }
      const before = await sideEffects();
      const r =
        typeof body === "string"
          ? await fetch(`${e.url}/v1/responses/input_tokens`, { method: "POST", headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" }, body })
          : await count(body, given === null ? otherKey : e.clientKey);
      expect(r.status).toBe(status);
      const b = await r.json();
      expect(b.error.type).toBe("invalid_request_error");
      expect(b.error.param).toBe(param);
      expect(await sideEffects()).toEqual(before);
    });
  }

  test("missing key → 401 in the Responses shape", async () => {
    const r = await fetch(`${e.url}/v1/responses/input_tokens`, { method: "POST", body: JSON.stringify({ model: MODEL, input: "x" }) });
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe("invalid_api_key");
  });
});
