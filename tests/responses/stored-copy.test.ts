/**
 * The stored copy of a response: output items the client saw exactly as a continuation replays
 * them are written once (the response holds `{$output: i}` references into the record's output),
 * and GET /v1/responses/{id} still answers the response object the client received, byte for
 * byte; records written with the items themselves read back unchanged.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ResponsesRepo } from "../../src/db/responses-store";
import { expandStoredOutput } from "../../src/dialects/responses/storage";
import { reasoningScenario, toolScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";
import { parseSse } from "./sse";

let e: E2E;
let store: ResponsesRepo;
beforeAll(async () => {
  e = await startE2E();
  store = e.services.responses;
});
afterAll(async () => {
  await e?.stop();
});

const req = (method: string, path: string, body?: unknown) =>
  fetch(`${e.url}${path}`, { method, headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

test("streamed: reasoning stays whole in the response, the message and the call are references; GET answers what was streamed", async () => {
  e.fake.enqueue(reasoningScenario("Thinking it over.", "The answer is 4."));
  const r = await req("POST", "/v1/responses", { model: "claude-sonnet-4-5", stream: true, input: "2+2?", reasoning: { effort: "low" } });
  expect(r.status).toBe(200);
  const completed = parseSse(await r.text()).events.at(-1)!.data.response;
  expect(completed.output.map((o: any) => o.type)).toEqual(["reasoning", "message"]);

  const rec = await storedRecord(completed.id);
  const out = rec.response.output as any[];
  // Reasoning differs from its replayed form (encrypted_content hidden): kept whole.
  expect(out[0].type).toBe("reasoning");
  expect(out[0].encrypted_content).toBeNull();
  expect(typeof rec.output[0]!.encrypted_content).toBe("string");
  // The message is the replayed item itself: one reference, its text written once.
  expect(out[1]).toEqual({ $output: 1 });
  expect(rec.output[1]!.content).toEqual(completed.output[1].content);

  const got = await req("GET", `/v1/responses/${completed.id}`);
  expect(got.status).toBe(200);
  expect(await got.text()).toBe(JSON.stringify(completed));
});

test("non-stream: the JSON reply and GET agree, function calls included", async () => {
  e.fake.enqueue(toolScenario([{ name: "get_weather", input: { city: "Paris" } }], { text: "Checking." }));
  const r = await req("POST", "/v1/responses", {
    model: "claude-sonnet-4-5",
    input: "weather?",
    tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
  });
  expect(r.status).toBe(200);
  const body = await r.json();
  expect(body.output.map((o: any) => o.type)).toEqual(["message", "function_call"]);
  const { output_text: _omitted, ...response } = body;
  const got = await (await req("GET", `/v1/responses/${body.id}`)).json();
  expect(got).toEqual(response);
  expect(JSON.stringify(got)).toBe(JSON.stringify(response));
});

test("records holding the items themselves, and references out of range, read back as they are", () => {
  const item = { id: "msg_x_0", type: "message", status: "completed", role: "assistant", content: [] };
  const base = { id: "resp_x", clientKeyId: "k", createdAt: 0, input: [], output: [item] };
  expect(expandStoredOutput({ ...base, response: { id: "resp_x", output: [item] } }).output).toEqual([item]);
  expect(expandStoredOutput({ ...base, response: { id: "resp_x", output: [{ $output: 0 }, { $output: 5 }] } }).output).toEqual([item, { $output: 5 }]);
  expect(expandStoredOutput({ ...base, response: { id: "resp_x" } })).toEqual({ id: "resp_x" });
});

/** The record as the database holds it (under the harness's client key). */
async function storedRecord(id: string) {
  await store.flush();
  for (const k of e.services.keys.list()) {
    const r = await store.get(id, k.id);
    if (r) return r;
  }
  throw new Error(`response ${id} was not stored`);
}
