/**
 * What the client gets per upstream error class: clientErrorFor() (src/core/error-table.ts)
 * builds the TurnError from the class row. The second test pins it to the turn runner's own
 * mapping (kiroToTurnError) so that switching the runner to clientErrorFor changes nothing.
 */
import { describe, expect, test } from "bun:test";
import { clientErrorFor, clientKindFor, SYNTHETIC_REASONS, UPSTREAM_ERROR_CLASSES } from "../../src/core/error-table";
import { TurnError } from "../../src/core/errors";
import { validModelNames } from "../../src/core/models";
import { kiroToTurnError } from "../../src/turn/errors";
import { KiroError } from "../../src/kiro/errors";

const NOW = Date.parse("2026-03-01T00:00:00Z");
const names = () => ["claude-a", "claude-b"];

describe("clientErrorFor", () => {
  const shape = (e: TurnError) => ({ kind: e.kind, status: e.status, message: e.message, retryAfterSeconds: e.retryAfterSeconds, param: e.param });

  test("kind, status, message, Retry-After and param per class", () => {
    const got = (cls: (typeof UPSTREAM_ERROR_CLASSES)[number], extra: { reason?: string; retryAfterMs?: number } = {}, poolRetryAt?: number) =>
      shape(clientErrorFor(new KiroError(cls, "upstream says no", extra), { validModelNames: names, poolRetryAt, now: NOW }));
    expect(got("bad_request")).toEqual({ kind: "invalid_request", status: 400, message: "upstream says no", retryAfterSeconds: undefined, param: undefined });
    expect(got("input_too_long")).toEqual({ kind: "input_too_long", status: 400, message: "prompt is too long: upstream says no", retryAfterSeconds: undefined, param: undefined });
    expect(got("invalid_model")).toEqual({ kind: "not_found", status: 404, message: "upstream says no; valid models: claude-a, claude-b", retryAfterSeconds: undefined, param: "model" });
    expect(got("throttled")).toEqual({ kind: "rate_limited", status: 429, message: "rate limited by Kiro: upstream says no", retryAfterSeconds: 30, param: undefined });
    expect(got("throttled", { retryAfterMs: 2500 }).retryAfterSeconds).toBe(3);
    expect(got("throttled", {}, NOW + 10_500).retryAfterSeconds).toBe(11);
    expect(got("model_capacity")).toEqual({ kind: "overloaded", status: 529, message: "upstream says no", retryAfterSeconds: undefined, param: undefined });
    for (const cls of ["quota_exhausted", "suspended", "dead_refresh_token", "account_blocked", "forbidden", "expired_token"] as const) {
      expect(got(cls, {}, NOW + 60_000)).toEqual({ kind: "no_account", status: 503, message: "no Kiro account can serve this request: upstream says no", retryAfterSeconds: 60, param: undefined });
    }
    expect(got("transient")).toEqual({ kind: "upstream", status: 502, message: "upstream error: upstream says no", retryAfterSeconds: undefined, param: undefined });
    expect(got("transient", { reason: SYNTHETIC_REASONS.timeout })).toEqual({ kind: "timeout", status: 504, message: "upstream says no", retryAfterSeconds: undefined, param: undefined });
    expect(got("endpoint_unavailable")).toEqual({ kind: "upstream", status: 502, message: "upstream error: upstream says no", retryAfterSeconds: undefined, param: undefined });
    expect(clientKindFor("transient", SYNTHETIC_REASONS.timeout)).toBe("timeout");
  });

  test("a `$` in the upstream message is kept as it is", () => {
    expect(clientErrorFor(new KiroError("bad_request", "costs $& and $1"), { validModelNames: names }).message).toBe("costs $& and $1");
  });

  test("agrees with the turn runner's mapping for every class, reason and Retry-After source", () => {
    const reasons = [undefined, SYNTHETIC_REASONS.timeout, SYNTHETIC_REASONS.reauthRequired, "MONTHLY_REQUEST_COUNT"];
    for (const cls of UPSTREAM_ERROR_CLASSES)
      for (const reason of reasons)
        for (const retryAfterMs of [undefined, 4200]) {
          const e = new KiroError(cls, "upstream message", { reason, retryAfterMs, status: 400 });
          // No pool retry time: Retry-After then depends only on the error, not on the clock.
          const ours = clientErrorFor(e, { validModelNames });
          const theirs = kiroToTurnError(e);
          expect({ cls, reason, retryAfterMs, ...shape(ours), cause: ours.cause === e }).toEqual({ cls, reason, retryAfterMs, ...shape(theirs), cause: theirs.cause === e });
          // With a pool retry time a whole minute ahead (ceil keeps it at 60 s across a few ms).
          const retryAt = Date.now() + 60_000;
          const pool = { unavailable: true as const, reason: "all_disabled" as const, retryAt, message: "x" };
          expect(shape(clientErrorFor(e, { validModelNames, poolRetryAt: retryAt }))).toEqual(shape(kiroToTurnError(e, pool)));
        }
  });
});
