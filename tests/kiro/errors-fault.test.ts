/**
 * Who is at fault for every upstream error class, and the rule that follows from it: a client's
 * mistake is returned to the client as it is and never counts against an account (no failover,
 * no error counter, no failure count, no state change) — checked on the table, on the failover
 * policy, and through the real pool against the fake Kiro.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ERROR_TABLE, type Fault, SYNTHETIC_REASONS, UPSTREAM_ERROR_CLASSES, type UpstreamErrorClass, isClientFault } from "../../src/core/error-table";
import { classifyUpstreamError, KiroError } from "../../src/kiro/errors";
import { decide, type LeaseContext } from "../../src/pool/failover";
import { isUnavailable } from "../../src/pool/types";
import type { Scenario } from "../fake-kiro/scenarios";
import { type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { addBoth, drive, longToken, servicesFor } from "../pool/helpers";

/** Written out independently of the table: the table must say the same. */
const EXPECTED_FAULT: Record<UpstreamErrorClass, Fault> = {
  expired_token: "account",
  dead_refresh_token: "account",
  suspended: "account",
  account_blocked: "account",
  quota_exhausted: "account",
  throttled: "account",
  model_capacity: "upstream",
  invalid_model: "account",
  bad_request: "client",
  input_too_long: "client",
  forbidden: "account",
  endpoint_unavailable: "upstream",
  transient: "upstream",
};

const CLIENT_CLASSES = UPSTREAM_ERROR_CLASSES.filter(isClientFault);

describe("fault per class", () => {
  test("every class says which side is at fault", () => {
    const actual = Object.fromEntries(UPSTREAM_ERROR_CLASSES.map((c) => [c, ERROR_TABLE[c].fault]));
    expect(actual).toEqual(EXPECTED_FAULT);
    expect(CLIENT_CLASSES.sort()).toEqual(["bad_request", "input_too_long"]);
  });

  test("client-fault classes are returned to the client and leave the account alone; the others fail over", () => {
    for (const cls of UPSTREAM_ERROR_CLASSES) {
      const { pool, reportedMidStream } = ERROR_TABLE[cls];
      if (isClientFault(cls)) {
        expect({ cls, pool, reportedMidStream }).toEqual({ cls, pool: { then: "return_to_client", state: "none" }, reportedMidStream: false });
      } else {
        expect({ cls, then: pool.then }).toEqual({ cls, then: "next_account" });
      }
    }
  });

  test("the failover policy returns client-fault classes whatever the lease's history or the reason", () => {
    const contexts: LeaseContext[] = [];
    for (const refreshedOnce of [false, true])
      for (const capacityRetries of [0, 1, 5])
        for (const throttleStreak of [0, 3])
          contexts.push({ now: Date.parse("2026-03-01T00:00:00Z"), refreshedOnce, capacityRetries, throttleStreak, cooldownBaseMs: 2000, cooldownMaxMs: 300_000, random: () => 0.5 });
    const reasons = [undefined, "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS", SYNTHETIC_REASONS.profileArnRequired, SYNTHETIC_REASONS.reauthRequired, SYNTHETIC_REASONS.timeout, "CONTENT_LENGTH_EXCEEDS_THRESHOLD"];
    for (const cls of CLIENT_CLASSES)
      for (const reason of reasons)
        for (const status of [undefined, 400, 403])
          for (const ctx of contexts) {
            const out = decide(new KiroError(cls, "no", { reason, status, retryAfterMs: 1000 }), ctx);
            expect({ cls, reason, status, out }).toEqual({ cls, reason, status, out: { decision: { action: "return_to_client" }, change: { kind: "none" } } });
          }
  });
});

describe("client-fault answers through the real pool", () => {
  let fake: FakeKiro;
  beforeAll(async () => {
    fake = await startFakeKiro();
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  async function twoAccounts(behaviourA = {}) {
    const s = await servicesFor(fake);
    s.settings.update({ strategy: "priority", maxConsecutiveFailures: 1 });
    const a = await addBoth(fake, s.pool, { refreshToken: longToken("A"), label: "A", behaviour: behaviourA });
    const b = await addBoth(fake, s.pool, { refreshToken: longToken("B"), label: "B" });
    return { s, a, b };
  }

  function untouched(s: Awaited<ReturnType<typeof twoAccounts>>["s"], id: string) {
    const v = s.pool.get(id)!;
    return { state: v.state, errors: v.errors, consecutiveFailures: v.consecutiveFailures };
  }
  const CLEAN = { state: "active" as const, errors: 0, consecutiveFailures: 0 };

  const beforeFirstByte = (type: string, message: string, reason?: string): Scenario => ({ name: "exception", steps: [{ exception: { type, message, reason } }] });

  const cases: Array<{ name: string; cls: UpstreamErrorClass; behaviour?: object; scenario?: Scenario; text?: string }> = [
    // The fake answers 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD to bodies over maxBodyBytes.
    { name: "400 prompt too long (HTTP answer)", cls: "input_too_long", behaviour: { maxBodyBytes: 8000 }, text: "x".repeat(20_000) },
    { name: "in-stream ValidationException before the first byte", cls: "bad_request", scenario: beforeFirstByte("ValidationException", "Improperly formed request.") },
    {
      name: "403 for a workspace field we should not send",
      cls: "bad_request",
      scenario: beforeFirstByte("AccessDeniedException", "not authorized for workspace context", "UNAUTHORIZED_WORKSPACE_CONTEXT_FEATURE_ACCESS"),
    },
  ];

  for (const c of cases) {
    test(`${c.name} → ${c.cls}: returned at once, no account counts it`, async () => {
      const { s, a, b } = await twoAccounts(c.behaviour);
      if (c.scenario) fake.enqueue(c.scenario);
      const r = await drive(s, c.text ?? "hello");
      expect(r.error?.cls).toBe(c.cls);
      expect(r.servedBy).toBeUndefined();
      // One decision, on the first account: nobody else was tried.
      expect(r.decisions.map((d) => [d.accountId, d.decision.action])).toEqual([[a.id, "return_to_client"]]);
      expect(untouched(s, a.id)).toEqual(CLEAN);
      expect(untouched(s, b.id)).toEqual(CLEAN);
      expect(s.pool.get(a.id)!.lastError ?? null).toBeNull();
      // The account still serves the next request.
      expect((await drive(s, "again")).servedBy).toBe(a.id);
    });
  }

  test("every client-fault class, reported on a lease, leaves the account's counters and state alone", async () => {
    const { s, a } = await twoAccounts();
    for (const cls of CLIENT_CLASSES) {
      for (const input of [{ status: 400, body: '{"message":"bad","reason":"TOOL_SCHEMA_INVALID"}' }, { status: 400, body: '{"message":"Input is too long."}' }]) {
        const err = classifyUpstreamError(input);
        if (err.cls !== cls) continue;
        const lease = s.pool.acquire({});
        if (isUnavailable(lease)) throw new Error(lease.message);
        expect(lease.failure(err).action).toBe("return_to_client");
        lease.release();
      }
      const lease = s.pool.acquire({});
      if (isUnavailable(lease)) throw new Error(lease.message);
      expect(lease.accountId).toBe(a.id);
      for (let i = 0; i < 5; i++) expect(lease.failure(new KiroError(cls, "bad", { status: 400 })).action).toBe("return_to_client");
      lease.release();
    }
    expect(untouched(s, a.id)).toEqual(CLEAN);
  });
});
