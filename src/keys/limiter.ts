/**
 * Rate limits per client key: requests per minute, tokens per minute and requests at once, as
 * stored on the key (client_keys.rpm_limit / tpm_limit / concurrency_limit; null, or anything
 * below 1, = no limit).
 *
 *   const slot = limiter.admit(key, estimatedTokens);   // TurnError rate_limited (429 + Retry-After) when over a limit
 *   if (slot instanceof TurnError) throw slot;
 *   …the turn runs…
 *   slot.done(actualTokens);                            // exactly once, whatever happened
 *
 * Minutes are sliding windows (the last 60 s, not the clock minute). A request counts when it is
 * admitted; its tokens (input + output) count when it ends, so a key is refused while the tokens
 * of its last minute reach its limit (an estimate given at admission is held until then). Usage
 * and limit hits are kept in memory since start: the key's live usage and /metrics read them.
 */
import { TurnError } from "../core/errors";
import type { ClientKey } from "./client-keys";

export const KEY_WINDOW_MS = 60_000;

export type KeyLimitKind = "rpm" | "tpm" | "concurrency";
export type KeyLimitFields = Pick<ClientKey, "id" | "rpmLimit" | "tpmLimit" | "concurrencyLimit">;

/** A request admitted for a key: call done() once when it ends (tokens it used: input + output). */
export type KeyAdmission = { done(actualTokens: number): void };

/** What a key's usage shows next to its limits. */
export type KeyLimitUsage = {
  /** Requests admitted in the last minute. */
  requestsLastMinute: number;
  /** Tokens of requests that ended in the last minute, plus estimates of running ones. */
  tokensLastMinute: number;
  /** Requests running now. */
  inflight: number;
  /** Requests refused per limit since start. */
  hits: Record<KeyLimitKind, number>;
};

/**
 * One key's last minute. Token entries are two parallel number arrays (when each counted, how
 * many), not an object per entry: the entries of the last minute outlive the requests that made
 * them, and small objects allocated among each request's garbage keep otherwise empty heap blocks
 * of JavaScriptCore resident after traffic (bench/memory.ts).
 */
class KeyState {
  requests: number[] = [];
  reqHead = 0;
  tokAt: number[] = [];
  tokN: number[] = [];
  tokHead = 0;
  /** Token entries dropped from the front of the arrays since start: entry k is at index k - tokBase. */
  tokBase = 0;
  tokenSum = 0;
  inflight = 0;
  hits: Record<KeyLimitKind, number> = { rpm: 0, tpm: 0, concurrency: 0 };

  trim(now: number, windowMs: number): void {
    const edge = now - windowMs;
    while (this.reqHead < this.requests.length && this.requests[this.reqHead]! <= edge) this.reqHead++;
    while (this.tokHead < this.tokAt.length && this.tokAt[this.tokHead]! <= edge) this.tokenSum -= this.tokN[this.tokHead++]!;
    if (this.reqHead > 32 && this.reqHead * 2 > this.requests.length) {
      this.requests = this.requests.slice(this.reqHead);
      this.reqHead = 0;
    }
    if (this.tokHead > 32 && this.tokHead * 2 > this.tokAt.length) {
      this.tokAt = this.tokAt.slice(this.tokHead);
      this.tokN = this.tokN.slice(this.tokHead);
      this.tokBase += this.tokHead;
      this.tokHead = 0;
    }
  }

  /** Counts `n` tokens at `at`; returns the entry's number (for release). */
  addTokens(at: number, n: number): number {
    this.tokAt.push(at);
    this.tokN.push(n);
    this.tokenSum += n;
    return this.tokBase + this.tokAt.length - 1;
  }

  /** Takes entry `k`'s tokens out of the sum, if it is still in the window (trim first). */
  release(k: number): void {
    const i = k - this.tokBase;
    if (i < this.tokHead || i >= this.tokAt.length) return;
    this.tokenSum -= this.tokN[i]!;
    this.tokN[i] = 0;
  }

  requestCount(): number {
    return this.requests.length - this.reqHead;
  }
}

export class KeyLimiter {
  private readonly keys = new Map<string, KeyState>();
  private readonly now: () => number;
  private readonly windowMs: number;

  constructor(opts: { now?: () => number; windowMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.windowMs = opts.windowMs ?? KEY_WINDOW_MS;
  }

  /** Admits one request for the key, or says which limit refuses it and when to retry. */
  admit(key: KeyLimitFields, estimatedTokens = 0): KeyAdmission | TurnError {
    const now = this.now();
    const st = this.state(key.id);
    st.trim(now, this.windowMs);
    const refused = this.check(key, st, now, Math.max(0, estimatedTokens));
    if (refused) {
      st.hits[refused.kind]++;
      return new TurnError("rate_limited", refused.message, { retryAfterSeconds: Math.max(1, Math.ceil(refused.retryInMs / 1000)) });
    }
    st.requests.push(now);
    st.inflight++;
    const held = st.addTokens(now, Math.max(0, Math.round(estimatedTokens)));
    let finished = false;
    return {
      done: (actualTokens: number) => {
        if (finished) return;
        finished = true;
        st.inflight--;
        // The estimate is released (if its entry is still in the window) and the real count
        // takes its place, timed at the end of the request.
        const t = this.now();
        st.trim(t, this.windowMs);
        st.release(held);
        const n = Math.max(0, Math.round(actualTokens));
        if (n > 0) st.addTokens(t, n);
      },
    };
  }

  /** The key's live usage against its limits (zeros for a key not seen since start). */
  usage(keyId: string): KeyLimitUsage {
    const st = this.keys.get(keyId);
    if (!st) return { requestsLastMinute: 0, tokensLastMinute: 0, inflight: 0, hits: { rpm: 0, tpm: 0, concurrency: 0 } };
    st.trim(this.now(), this.windowMs);
    return { requestsLastMinute: st.requestCount(), tokensLastMinute: st.tokenSum, inflight: st.inflight, hits: { ...st.hits } };
  }

  /** Every key seen since start with its usage (for /metrics). */
  all(): Array<{ keyId: string } & KeyLimitUsage> {
    return [...this.keys.keys()].map((keyId) => ({ keyId, ...this.usage(keyId) }));
  }

  private state(id: string): KeyState {
    let st = this.keys.get(id);
    if (!st) this.keys.set(id, (st = new KeyState()));
    return st;
  }

  private check(key: KeyLimitFields, st: KeyState, now: number, est: number): { kind: KeyLimitKind; message: string; retryInMs: number } | undefined {
    if (key.concurrencyLimit != null && key.concurrencyLimit > 0 && st.inflight >= key.concurrencyLimit) {
      // No end time is known for running requests: try again in a second.
      return { kind: "concurrency", message: `this API key's limit of ${key.concurrencyLimit} concurrent request${key.concurrencyLimit === 1 ? "" : "s"} is reached`, retryInMs: 1000 };
    }
    if (key.rpmLimit != null && key.rpmLimit > 0 && st.requestCount() >= key.rpmLimit) {
      // The oldest request that keeps the count at the limit leaves the window first.
      const oldest = st.requests[st.reqHead + st.requestCount() - key.rpmLimit]!;
      return { kind: "rpm", message: `this API key's limit of ${key.rpmLimit} requests per minute is reached`, retryInMs: oldest + this.windowMs - now };
    }
    if (key.tpmLimit != null && key.tpmLimit > 0 && (st.tokenSum >= key.tpmLimit || (st.tokenSum > 0 && st.tokenSum + est > key.tpmLimit))) {
      // When enough tokens leave the window for this request to fit (or the window is empty).
      let sum = st.tokenSum;
      let at = now;
      for (let i = st.tokHead; i < st.tokAt.length; i++) {
        sum -= st.tokN[i]!;
        at = st.tokAt[i]! + this.windowMs;
        if (sum < key.tpmLimit && (sum === 0 || sum + est <= key.tpmLimit)) break;
      }
      return { kind: "tpm", message: `this API key's limit of ${key.tpmLimit} tokens per minute is reached (${st.tokenSum} used in the last minute)`, retryInMs: at - now };
    }
    return undefined;
  }
}
