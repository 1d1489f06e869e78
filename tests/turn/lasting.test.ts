/**
 * FailureDecision.lasting: the pool says, with its decision, whether a hand-over left the account
 * unusable for this request (the turn runner counts only the other, "soft" hand-overs against
 * its budget and never asks the pool again).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KiroError } from "../../src/kiro/errors";
import { isUnavailable, type PoolLease } from "../../src/pool/types";
import type { Services } from "../../src/services";
import { startFakeKiro, type FakeKiro } from "../fake-kiro/server";
import { addBoth, longToken, servicesFor } from "../pool/helpers";

let fake: FakeKiro;
let s: Services;
const ids: string[] = [];
beforeAll(async () => {
  fake = await startFakeKiro();
  s = await servicesFor(fake);
  for (const label of ["a", "b", "c"]) ids.push((await addBoth(fake, s.pool, { refreshToken: longToken(label), label })).id);
});
afterAll(async () => {
  s.pool.close();
  await fake.stop();
});

function leaseOn(id: string, model?: string): PoolLease {
  const l = s.pool.acquire({ exclude: new Set(ids.filter((x) => x !== id)), model });
  if (isUnavailable(l)) throw new Error(l.message);
  return l;
}

describe("FailureDecision.lasting", () => {
  test("a transient failure leaves the account active: soft", () => {
    const l = leaseOn(ids[0]!);
    const d = l.failure(new KiroError("transient", "upstream 500", { status: 500 }));
    l.release();
    expect(d.lasting).toBe(false);
    expect(s.pool.get(ids[0]!)!.state).toBe("active");
  });

  test("out of credits exhausts the account: lasting", () => {
    const l = leaseOn(ids[1]!);
    const d = l.failure(new KiroError("quota_exhausted", "You have reached the limit.", { status: 402 }));
    l.release();
    expect(d).toMatchObject({ action: "next_account", lasting: true });
    expect(s.pool.get(ids[1]!)!.state).toBe("exhausted");
  });

  test("a model the account's plan lacks: lasting although the account stays active", () => {
    const l = leaseOn(ids[2]!, "claude-opus-4.6");
    const d = l.failure(new KiroError("invalid_model", "Invalid model id", { status: 400, reason: "INVALID_MODEL_ID" }));
    l.release();
    expect(d.lasting).toBe(true);
    expect(s.pool.get(ids[2]!)!.state).toBe("active");
  });
});
