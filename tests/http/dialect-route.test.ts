/**
 * The one dialect route, for every registered dialect: the failures before a turn answer in the
 * dialect's own shape (dialect.error), the request id is echoed, and a model the catalogue refuses
 * is still recorded in the request log like a failed turn.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { TurnError } from "../../src/core/errors";
import type { Dialect } from "../../src/dialects/dialect";
import { DIALECTS } from "../../src/http/dialects";
import { makeApp, TEST_CLIENT_KEY } from "../support/app";

// Built before the tests are declared: a registration is a factory over the services, and the
// test names come from the dialects it builds.
const m = await makeApp();
const dialects = DIALECTS.map((make) => make(m.services));
const requests: Array<Record<string, unknown>> = [];
m.services.bus.on((ev) => {
  if (ev.kind === "request") requests.push(ev.data as Record<string, unknown>);
});
afterAll(() => {
  for (const fn of m.services.onShutdown.splice(0)) void fn();
});

const post = (path: string, body: string, key?: string) =>
  m.app.handle(new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "req_route_test", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body,
  }));

/** What the dialect itself answers for this error (status and body), to compare the route with. */
async function expected(d: Dialect<unknown>, err: TurnError) {
  const r = d.error(err, "req_route_test");
  return { status: r.status, body: await r.json() };
}

describe("every registered dialect through the one route", () => {
  test("DIALECTS registers openai, anthropic and responses, each on paths of its own", () => {
    expect(dialects.map((d) => d.name)).toEqual(expect.arrayContaining(["anthropic", "openai", "responses"]));
    const paths = dialects.flatMap((d) => [...d.paths, ...(d.routes ?? []).map((r) => `${r.method} ${r.path}`)]);
    expect(new Set(paths).size).toBe(paths.length);
  });

  for (const d of dialects) {
    test(`${d.name}: no key → 401 in the dialect's shape, with the request id`, async () => {
      const r = await post(d.paths[0]!, "{}");
      const want = await expected(d, new TurnError("authentication", d.unauthorizedMessage ?? ""));
      expect(r.status).toBe(want.status);
      expect(await r.json()).toEqual(want.body);
      expect(r.headers.get("x-request-id")).toBe("req_route_test");
    });

    test(`${d.name}: a body that is not JSON → the dialect's 400`, async () => {
      const r = await post(d.paths[1] ?? d.paths[0]!, "{not json", TEST_CLIENT_KEY);
      expect(r.status).toBe(400);
      let parseError: unknown;
      try {
        (d.parse ?? JSON.parse)("{not json");
      } catch (e) {
        parseError = e;
      }
      expect(parseError).toBeInstanceOf(TurnError);
      expect(await r.json()).toEqual((await expected(d, parseError as TurnError)).body);
    });

    test(`${d.name}: an unknown model → 404 naming the valid models, recorded in the request log`, async () => {
      const before = requests.length;
      // A body every dialect accepts apart from the model (Chat/Messages read `messages`, Responses `input`).
      const body = { model: "gpt-4o-mini", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }], input: "hi" };
      const r = await post(d.paths[0]!, JSON.stringify(body), TEST_CLIENT_KEY);
      expect(r.status).toBe(404);
      expect(JSON.stringify(await r.json())).toContain("valid models: claude-sonnet-4-5");
      const row = requests.slice(before).find((x) => x.requestId === "req_route_test");
      expect(row).toMatchObject({ dialect: d.name, model: "gpt-4o-mini", status: 404, errorType: "not_found", stream: true });
    });

    for (const route of d.routes ?? []) {
      const path = route.path.replace(/:([A-Za-z_]+)/g, "missing_$1");
      test(`${d.name}: ${route.method} ${route.path} — no key → 401, an unknown id → the dialect's 404, both in its shape`, async () => {
        const call = (key?: string) =>
          m.app.handle(new Request(`http://localhost${path}`, {
            method: route.method,
            headers: { "x-request-id": "req_route_test", ...(key ? { authorization: `Bearer ${key}` } : {}) },
          }));
        const denied = await call();
        const want = await expected(d, new TurnError("authentication", d.unauthorizedMessage ?? ""));
        expect(denied.status).toBe(want.status);
        expect(await denied.json()).toEqual(want.body);
        expect(denied.headers.get("x-request-id")).toBe("req_route_test");

        const missing = await call(TEST_CLIENT_KEY);
        expect(missing.status).toBe(404);
        expect(missing.headers.get("content-type")).toContain("application/json");
        // The handler's own error, answered through dialect.error (same body as the dialect gives it).
        let thrown: unknown;
        try {
          await route.handle({ params: { id: "missing_id" }, query: new URLSearchParams(), clientKeyId: "nobody", signal: new AbortController().signal });
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(TurnError);
        expect(await missing.json()).toEqual((await expected(d, thrown as TurnError)).body);
      });
    }
  }
});
