import { describe, expect, test } from "bun:test";
import { TurnError } from "../../src/core/errors";
import { openaiErrorResponse } from "../../src/dialects/openai/errors";

describe("openaiErrorResponse", () => {
  test("status, shape and retry headers per kind", async () => {
    const cases: Array<[TurnError, number, string, string | null]> = [
      [new TurnError("invalid_request", "bad n", { param: "n" }), 400, "invalid_request_error", "invalid_value"],
      [new TurnError("input_too_long", "too long"), 400, "invalid_request_error", "context_length_exceeded"],
      [new TurnError("authentication", "no key"), 401, "invalid_request_error", "invalid_api_key"],
      [new TurnError("permission", "not this model"), 403, "invalid_request_error", "permission_denied"],
      [new TurnError("not_found", "no model", { param: "model" }), 404, "invalid_request_error", "model_not_found"],
      [new TurnError("rate_limited", "slow down", { retryAfterSeconds: 7 }), 429, "requests", "rate_limit_exceeded"],
      [new TurnError("overloaded", "busy"), 503, "server_error", "overloaded"],
      [new TurnError("no_account", "none_configured"), 503, "server_error", "no_account_available"],
      [new TurnError("upstream", "boom"), 502, "server_error", null],
      [new TurnError("timeout", "slow"), 504, "server_error", "timeout"],
    ];
    for (const [err, status, type, code] of cases) {
      const r = openaiErrorResponse(err, "req_1");
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.headers.get("x-request-id")).toBe("req_1");
      expect(await r.json()).toEqual({ error: { message: err.message, type, param: err.param ?? null, code } });
    }
    const limited = openaiErrorResponse(new TurnError("rate_limited", "x", { retryAfterSeconds: 7 }), "r");
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(limited.headers.get("retry-after-ms")).toBe("7000");
    expect(openaiErrorResponse(new TurnError("no_account", "x"), "r").headers.get("x-should-retry")).toBe("false");
  });

  test("unexpected errors become a 500 without internals", async () => {
    const r = openaiErrorResponse(new Error("secret stack detail"), "r");
    expect(r.status).toBe(500);
    expect(JSON.stringify(await r.json())).not.toContain("secret");
  });
});
