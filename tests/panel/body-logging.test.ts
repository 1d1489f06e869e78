import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_ADMIN_TOKEN } from "../support/app";
import { startE2E, type E2E } from "../support/e2e";
import { loggedRow } from "../support/request-log";
import { captureRequestBody, MAX_LOGGED_BODY_BYTES } from "../../src/logs/body-capture";

/** Request-body logging (Settings): off by default, on stores the client's body for the details view. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
let e: E2E;
beforeAll(async () => { e = await startE2E(); });
afterAll(async () => { await e.stop(); });

async function chat(prompt: string) {
  const r = await fetch(`${e.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${e.clientKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: [{ type: "text", text: prompt }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}${"A".repeat(2000)}` } }] }],
    }),
  });
  return r.headers.get("x-request-id")!;
}

async function storedBody(requestId: string): Promise<string | null> {
  const row = await loggedRow(e.services, requestId, "request_body");
  if (!row) throw new Error(`request ${requestId} is not in the request log`);
  return row.request_body as string | null;
}

async function detailsPage(requestId: string): Promise<string> {
  const login = await fetch(`${e.url}/login?token=${TEST_ADMIN_TOKEN}`, { redirect: "manual" });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  // The row's id as the panel lists it (PostgreSQL mode: the shared table's id, not this process's copy).
  const list = await (await fetch(`${e.url}/requests`, { headers: { cookie } })).text();
  const id = new RegExp(`hx-get="/requests/(\\d+)"[^>]*data-request="${requestId}"`).exec(list)?.[1];
  if (!id) throw new Error(`request ${requestId} is not in the panel's request log`);
  return (await fetch(`${e.url}/requests/${id}`, { headers: { cookie, "hx-request": "true" } })).text();
}

describe("request-body logging", () => {
  test("off (default): nothing of the prompt is stored", async () => {
    expect(e.services.settings.runtime.logRequestBodies).toBe(false);
    const id = await chat("secret project codename BLUEBIRD");
    expect(await storedBody(id)).toBeNull();
    expect(await detailsPage(id)).not.toContain("BLUEBIRD");
  });

  test("on: the prompt is stored and shown in the details, image data and secrets are not", async () => {
    e.services.settings.update({ logRequestBodies: true });
    try {
      const id = await chat("codename OSPREY, my key is sk-abcdefghijklmnop1234");
      const body = (await storedBody(id))!;
      expect(body).toContain("codename OSPREY");
      expect(body).toContain("chars of binary data omitted");
      expect(body).not.toContain(PNG);
      expect(body).not.toContain("sk-abcdefghijklmnop1234");
      const page = await detailsPage(id);
      expect(page).toContain("codename OSPREY");
    } finally {
      e.services.settings.update({ logRequestBodies: false });
    }
  });

  test("large bodies are cut at the limit with a marker", () => {
    const out = captureRequestBody({ text: "word ".repeat(50_000) });
    expect(Buffer.byteLength(out)).toBeLessThan(MAX_LOGGED_BODY_BYTES + 100);
    expect(out).toEndWith(`[cut at ${MAX_LOGGED_BODY_BYTES} bytes]`);
  });
});
