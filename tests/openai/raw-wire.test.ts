/** Raw-wire assertions on /v1/chat/completions (checks O1–O10 and E1–E3 of docs/wire-checks.md) with fetch. */
import { describe, expect, test } from "bun:test";
import { useE2E } from "../support/e2e";
import { toolScenario, parallelToolScenario, textScenario, errorFrameScenario, textSteps, usageSteps } from "../fake-kiro/scenarios";
import { assertConformantStream, parseOpenAISse, toolArgs, PNG_1PX } from "./helpers";

const e = useE2E();

function post(body: unknown, headers: Record<string, string> = {}, path = "/v1/chat/completions") {
  return fetch(`${e.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json", accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const weatherTool = {
  type: "function",
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

describe("OpenAI stream on the wire", () => {
  test("text then a tool call (fake directive): content first, then the call", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, tools: [weatherTool], messages: [{ role: "user", content: "weather? [[fake:tools]]" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    expect(chunks[0].choices[0].delta.content).toBe("");
    expect(typeof JSON.parse(toolArgs(chunks)[0]!.args).city).toBe("string");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });

  test("text with include_usage (O1–O5, O7, O8); Accept: application/json still streams", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi [[fake:usage]]" }] });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/event-stream");
    expect(r.headers.get("x-request-id")).toBeTruthy();
    const chunks = assertConformantStream(await r.text(), { includeUsage: true });
    expect(chunks[0].choices[0].delta.content).toBe("");
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("ok");
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
    const usage = chunks.at(-1).usage;
    expect(usage.completion_tokens).toBe(34);
    expect(usage.prompt_tokens_details.cached_tokens).toBe(100);
  });

  test("without include_usage there is no usage chunk", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, stream_options: { include_usage: false }, messages: [{ role: "user", content: "hi [[fake:text]]" }] });
    assertConformantStream(await r.text(), { includeUsage: false });
  });

  test("single tool call: first delta has index, id, type, name, arguments; fragments join to JSON (O6)", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Paris" } }]));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, tools: [weatherTool], messages: [{ role: "user", content: "weather?" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    expect(chunks[0].choices[0].delta.content).toBeNull();
    const calls = toolArgs(chunks);
    expect(Object.keys(calls)).toEqual(["0"]);
    expect(calls[0]!.name).toBe("get_weather");
    expect(typeof JSON.parse(calls[0]!.args).city).toBe("string");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });

  test("parallel tool calls get indexes 0 and 1", async () => {
    e.fake.enqueue(parallelToolScenario([{ name: "get_weather", input: { city: "Paris" } }, { name: "get_weather", input: { city: "Rome" } }]));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, tools: [weatherTool], messages: [{ role: "user", content: "two cities" }] });
    const calls = toolArgs(assertConformantStream(await r.text(), { includeUsage: false }));
    expect(Object.values(calls).map((c) => JSON.parse(c.args))).toEqual([{ city: "Paris" }, { city: "Rome" }]);
    expect(calls[0]!.id).not.toBe(calls[1]!.id);
  });

  test("no-argument tool call streams arguments {}", async () => {
    e.fake.enqueue(toolScenario([{ name: "now" }]));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, tools: [{ type: "function", function: { name: "now" } }], messages: [{ role: "user", content: "time?" }] });
    expect(toolArgs(assertConformantStream(await r.text(), { includeUsage: false }))[0]!.args).toBe("{}");
  });

  test("reasoning streams as delta.reasoning_content, never inside content", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, reasoning_effort: "high", messages: [{ role: "user", content: "think [[fake:reasoning]]" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? "").join("");
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(reasoning.length).toBeGreaterThan(0);
    expect(content).not.toContain(reasoning);
  });

  test("stop sequence ends the text with finish_reason stop", async () => {
    e.fake.enqueue(textScenario("one two STOP three four"));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, stop: ["STOP"], messages: [{ role: "user", content: "count" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("one two ");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });

  test("max_tokens → finish_reason length", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, max_tokens: 5, messages: [{ role: "user", content: "go on [[fake:long]]" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
  });

  test("mid-stream failure: one data:{error} event, then the end, no [DONE] (O9)", async () => {
    e.fake.enqueue(errorFrameScenario("InternalFailure", "upstream broke mid-answer"));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, messages: [{ role: "user", content: "x" }] });
    expect(r.status).toBe(200);
    const { data } = parseOpenAISse(await r.text());
    const last = data.at(-1);
    expect(Object.keys(last)).toEqual(["error"]);
    expect(Object.keys(last.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(data.includes("[DONE]")).toBe(false);
  });

  test("include_usage and a mid-stream failure: the error event ends it, no usage chunk, no [DONE]", async () => {
    e.fake.enqueue(errorFrameScenario("InternalFailure", "upstream broke mid-answer"));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "x" }] });
    expect(r.status).toBe(200);
    const { data } = parseOpenAISse(await r.text());
    expect(Object.keys(data.at(-1))).toEqual(["error"]);
    expect(data.includes("[DONE]")).toBe(false);
    const chunks = data.slice(0, -1);
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) {
      expect(c.choices).toHaveLength(1);
      expect(c.usage).toBeNull();
    }
  });

  const personFormat = {
    type: "json_schema",
    json_schema: { name: "person", schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false } },
  };

  test("json_schema stream that passes: one clean JSON content delta, then stop and [DONE]", async () => {
    e.fake.enqueue(textScenario('Here:\n```json\n{"name": "Ann"}\n```'));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, response_format: personFormat, messages: [{ role: "user", content: "who?" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    const contents = chunks.map((c) => c.choices[0].delta.content).filter((x) => x);
    expect(contents).toEqual(['{"name": "Ann"}']);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });

  test("json_schema stream that fails: no content, one error event, no [DONE]", async () => {
    e.fake.enqueue(textScenario('{"name": 7, "age": 3}'));
    const r = await post({ model: "claude-sonnet-4-5", stream: true, response_format: personFormat, messages: [{ role: "user", content: "who?" }] });
    expect(r.status).toBe(200);
    const { data } = parseOpenAISse(await r.text());
    expect(data.includes("[DONE]")).toBe(false);
    const err = data.at(-1).error;
    expect(err.type).toBe("server_error");
    expect(err.message).toContain("did not match the JSON schema");
    expect(data.slice(0, -1).every((c: any) => !c.choices[0].delta.content)).toBe(true);
  });

  test("json_object reply that calls a tool: its text comes before the call, unchecked", async () => {
    const r = await post({ model: "claude-sonnet-4-5", stream: true, response_format: { type: "json_object" }, tools: [weatherTool], messages: [{ role: "user", content: "weather? [[fake:tools]]" }] });
    const chunks = assertConformantStream(await r.text(), { includeUsage: false });
    const firstTool = chunks.findIndex((c) => c.choices[0].delta.tool_calls);
    const textAt = chunks.findIndex((c) => c.choices[0].delta.content);
    expect(chunks[textAt].choices[0].delta.content).toBe("Calling a tool.");
    expect(textAt).toBeLessThan(firstTool);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
  });

  test("a 70-char tool name round-trips: the upstream sees ≤ 64 chars, the client the original", async () => {
    const long = "mcp__very_long_server_name__" + "x".repeat(70 - 28);
    expect(long).toHaveLength(70);
    const tool = { type: "function", function: { name: long, parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } } };
    const before = e.fake.requests.length;
    const r = await post({ model: "claude-sonnet-4-5", stream: true, tools: [tool], messages: [{ role: "user", content: "go [[fake:tools]]" }] });
    const calls = toolArgs(assertConformantStream(await r.text(), { includeUsage: false }));
    expect(calls[0]!.name).toBe(long);
    expect(JSON.parse(calls[0]!.args)).toEqual({ q: "fake" });
    const sent = e.fake.requests.slice(before).find((q) => JSON.stringify(q.body).includes("conversationState"))!;
    const upstreamName = (sent.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools[0].toolSpecification.name;
    expect(upstreamName.length).toBeLessThanOrEqual(64);
    expect(upstreamName).not.toBe(long);
    const b = await (await post({ model: "claude-sonnet-4-5", tools: [tool], messages: [{ role: "user", content: "go [[fake:tools]]" }] })).json();
    expect(b.choices[0].message.tool_calls[0].function.name).toBe(long);
  });

  test("keep-alives are comment lines only", async () => {
    // The route's default interval is 15 s; a quiet upstream is covered in routes.test.ts with a short one.
    e.fake.enqueue({ steps: [...textSteps("a", 1), { delayMs: 300 }, ...textSteps("b", 1), ...usageSteps()] });
    const r = await post({ model: "claude-sonnet-4-5", stream: true, messages: [{ role: "user", content: "x" }] }, {}, "/chat/completions?beta=true");
    const text = await r.text();
    expect(text).not.toContain("event:");
    assertConformantStream(text, { includeUsage: false });
  });
});

describe("OpenAI non-stream on the wire (O10)", () => {
  test("text reply: application/json and the chat.completion shape, no tool_calls key", async () => {
    const r = await post({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi [[fake:usage]]" }] });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const b = await r.json();
    expect(b).toMatchObject({ object: "chat.completion", model: "claude-sonnet-4-5" });
    expect(b.id).toStartWith("chatcmpl-");
    expect(b.choices[0]).toEqual({ index: 0, message: { role: "assistant", content: "ok", refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" });
    expect(b.usage).toMatchObject({ completion_tokens: 34, total_tokens: b.usage.prompt_tokens + 34 });
  });

  test("tool-only reply: content null and tool_calls", async () => {
    e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Paris" } }]));
    const r = await post({ model: "claude-sonnet-4-5", tools: [weatherTool], messages: [{ role: "user", content: "weather" }] });
    const b = await r.json();
    expect(b.choices[0].message.content).toBeNull();
    expect(b.choices[0].message.tool_calls[0]).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(b.choices[0].finish_reason).toBe("tool_calls");
  });

  test("image input (data URL) reaches the upstream as image bytes; http URLs are a 400", async () => {
    const before = e.fake.requests.length;
    const r = await post({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: [
        { type: "text", text: "describe [[fake:text]]" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
      ] }],
    });
    expect(r.status).toBe(200);
    const sent = e.fake.requests.slice(before).find((q) => JSON.stringify(q.body).includes("conversationState"));
    const images = (sent!.body as any).conversationState.currentMessage.userInputMessage.images;
    expect(images).toHaveLength(1);
    expect(images[0].format).toBe("png");
    const url = await post({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://127.0.0.1:9/x.png" } }] }] });
    expect(url.status).toBe(400);
    expect((await url.json()).error.param).toBe("messages[0].content[0].image_url.url");
  });

  test("json_object response format returns clean JSON", async () => {
    e.fake.enqueue(textScenario('Here you go:\n```json\n{"a": 1}\n```'));
    const r = await post({ model: "claude-sonnet-4-5", response_format: { type: "json_object" }, messages: [{ role: "user", content: "json please" }] });
    const b = await r.json();
    expect(JSON.parse(b.choices[0].message.content)).toEqual({ a: 1 });
  });
});

describe("OpenAI errors on the wire (E1–E3)", () => {
  const shape = (b: any) => expect(Object.keys(b.error).sort()).toEqual(["code", "message", "param", "type"]);

  test("401 without or with a wrong key", async () => {
    const r = await fetch(`${e.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer nope" }, body: "{}" });
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("x-request-id")).toBeTruthy();
    const b = await r.json();
    shape(b);
    expect(b.error.code).toBe("invalid_api_key");
  });

  test("400 names the param; invalid JSON is a 400 too", async () => {
    const r = await post({ model: "claude-sonnet-4-5", n: 3, messages: [{ role: "user", content: "x" }] });
    expect(r.status).toBe(400);
    const b = await r.json();
    shape(b);
    expect(b.error).toMatchObject({ type: "invalid_request_error", param: "n" });
    const bad = await post("{not json");
    expect(bad.status).toBe(400);
    shape(await bad.json());
  });

  test("a body that is not an object: 400 with param null", async () => {
    for (const body of ["[]", '"text"', "7"]) {
      const r = await post(body);
      expect(r.status).toBe(400);
      const b = await r.json();
      shape(b);
      expect(b.error.param).toBeNull();
      expect(b.error.type).toBe("invalid_request_error");
    }
  });

  test("404 model_not_found", async () => {
    const r = await post({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(r.status).toBe(404);
    const b = await r.json();
    expect(b.error).toMatchObject({ code: "model_not_found", param: "model", type: "invalid_request_error" });
  });
});
