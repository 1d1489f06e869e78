/**
 * KeyLimiter on its own, on a hand-driven clock: requests per minute as a sliding window,
 * tokens per minute counted when requests end, requests at once, Retry-After from the window,
 * limit hits and live usage per key.
 */
import { describe, expect, test } from "bun:test";
import { TurnError } from "../../src/core/errors";
import { KeyLimiter, type KeyAdmission, type KeyLimitFields } from "../../src/keys/limiter";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const key = (id: string, limits: Partial<KeyLimitFields> = {}): KeyLimitFields => ({ id, rpmLimit: null, tpmLimit: null, concurrencyLimit: null, ...limits });

function admitted(r: KeyAdmission | TurnError): KeyAdmission {
  if (r instanceof TurnError) throw new Error(`refused: ${r.message}`);
  return r;
}

function refused(r: KeyAdmission | TurnError): TurnError {
  if (!(r instanceof TurnError)) throw new Error("expected a refusal");
  return r;
}

describe("KeyLimiter", () => {
  test("requests per minute: exactly R in any 60 s, Retry-After until the oldest leaves the window", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const k = key("a", { rpmLimit: 3 });
    for (let i = 0; i < 3; i++) {
      admitted(l.admit(k)).done(0);
      c.advance(10_000);
    }
    // t = 30 s: the first request (t = 0) leaves the window at 60 s.
    const e = refused(l.admit(k));
    expect(e.kind).toBe("rate_limited");
    expect(e.status).toBe(429);
    expect(e.retryAfterSeconds).toBe(30);
    expect(e.message).toBe("this API key's limit of 3 requests per minute is reached");
    c.advance(30_000);
    admitted(l.admit(k)).done(0);
    expect(refused(l.admit(k)).retryAfterSeconds).toBe(10);
    expect(l.usage("a")).toEqual({ requestsLastMinute: 3, tokensLastMinute: 0, inflight: 0, hits: { rpm: 2, tpm: 0, concurrency: 0 } });
  });

  test("keys are independent; a key without limits is never refused", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const limited = key("a", { rpmLimit: 1 });
    admitted(l.admit(limited)).done(0);
    refused(l.admit(limited));
    for (let i = 0; i < 100; i++) admitted(l.admit(key("b"))).done(10);
    expect(l.usage("b")).toMatchObject({ requestsLastMinute: 100, tokensLastMinute: 1000, hits: { rpm: 0, tpm: 0, concurrency: 0 } });
  });

  test("concurrency: running requests count until done(), done() twice counts once", () => {
    const l = new KeyLimiter();
    const k = key("a", { concurrencyLimit: 2 });
    const a = admitted(l.admit(k));
    const b = admitted(l.admit(k));
    const e = refused(l.admit(k));
    expect(e.message).toBe("this API key's limit of 2 concurrent requests is reached");
    expect(e.retryAfterSeconds).toBe(1);
    a.done(0);
    a.done(0);
    expect(l.usage("a").inflight).toBe(1);
    admitted(l.admit(k));
    refused(l.admit(k));
    b.done(0);
  });

  test("tokens per minute: counted when requests end; refused while the last minute reaches the limit", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const k = key("a", { tpmLimit: 1000 });
    const a = admitted(l.admit(k));
    c.advance(5_000);
    a.done(600);
    c.advance(5_000);
    admitted(l.admit(k)).done(500); // 600 used < 1000: admitted, now 1100
    c.advance(1_000);
    const e = refused(l.admit(k));
    expect(e.message).toBe("this API key's limit of 1000 tokens per minute is reached (1100 used in the last minute)");
    // The 600 (ended at t = 5 s) leave at 65 s; now is 11 s.
    expect(e.retryAfterSeconds).toBe(54);
    c.advance(54_000);
    admitted(l.admit(k)).done(0);
    expect(l.usage("a")).toMatchObject({ tokensLastMinute: 500, hits: { tpm: 1 } });
  });

  test("tokens per minute: an estimate given at admission is held until the request ends", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const k = key("a", { tpmLimit: 1000 });
    const a = admitted(l.admit(k, 800));
    expect(l.usage("a").tokensLastMinute).toBe(800);
    refused(l.admit(k, 300));
    admitted(l.admit(k, 200)).done(200);
    a.done(100);
    expect(l.usage("a").tokensLastMinute).toBe(300);
    admitted(l.admit(k, 700)).done(0);
  });

  test("a held estimate is released right after the window's old entries were compacted away, and not twice once it left the window", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const k = key("a", { tpmLimit: 1_000_000 });
    const long = admitted(l.admit(k, 50_000));
    // 100 short requests, one a second: the first 40 leave the window and get compacted away.
    for (let i = 0; i < 100; i++) {
      c.advance(1000);
      admitted(l.admit(k, 10)).done(7);
    }
    expect(l.usage("a").tokensLastMinute).toBe(60 * 7);
    // The long request (admitted 100 s ago, its estimate long out of the window) ends now.
    long.done(1000);
    expect(l.usage("a").tokensLastMinute).toBe(60 * 7 + 1000);
    // One admitted and ended while the window still holds its estimate.
    const short = admitted(l.admit(k, 300));
    expect(l.usage("a").tokensLastMinute).toBe(60 * 7 + 1300);
    for (let i = 0; i < 70; i++) admitted(l.admit(k, 0)).done(0);
    short.done(5);
    expect(l.usage("a").tokensLastMinute).toBe(60 * 7 + 1005);
    c.advance(61_000);
    expect(l.usage("a").tokensLastMinute).toBe(0);
  });

  test("a request larger than the limit passes on an empty minute (else it could never pass)", () => {
    const c = clock();
    const l = new KeyLimiter({ now: c.now });
    const k = key("a", { tpmLimit: 100 });
    admitted(l.admit(k, 5000)).done(5000);
    expect(refused(l.admit(k, 5000)).retryAfterSeconds).toBe(60);
    c.advance(60_000);
    admitted(l.admit(k, 5000)).done(10);
  });

  test("all() lists every key seen since start", () => {
    const l = new KeyLimiter();
    admitted(l.admit(key("a"))).done(1);
    admitted(l.admit(key("b", { rpmLimit: 1 }))).done(0);
    refused(l.admit(key("b", { rpmLimit: 1 })));
    expect(l.all().map((u) => u.keyId).sort()).toEqual(["a", "b"]);
  });
});
