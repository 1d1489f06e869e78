/**
 * Pool test helpers: services pointed at the fake Kiro, long realistic refresh tokens, and a
 * minimal driver that uses the pool the way the turn runner does (acquire → credentials →
 * openChat → success / failure decision → retry, fail over or give up).
 */
import type { CanonicalEvent } from "../../src/core/canonical";
import { openChat } from "../../src/kiro/client";
import { KiroError } from "../../src/kiro/errors";
import type { AccountPool } from "../../src/pool/pool";
import { isUnavailable, type FailureDecision, type PoolUnavailable } from "../../src/pool/types";
import type { Services } from "../../src/services";
import type { FakeKiro } from "../fake-kiro/server";
import type { AppConfig } from "../../src/config/schema";
import { loadConfig } from "../../src/config/load";
import { bootServices } from "../../src/boot";
import { textRequest } from "../support/kiro";

/**
 * Real services on an in-memory DB (like tests/support/app.ts makeServices, without importing the
 * HTTP app so pool tests do not depend on routes being edited concurrently).
 */
export async function makeServices(overrides: Partial<AppConfig> = {}): Promise<Services> {
  const { config } = loadConfig([], {});
  const { services } = await bootServices({ ...config, dbPath: ":memory:", port: 0, clientToken: "test-client-key", adminToken: "test-admin-token", logLevel: "error", accountRpm: 0, accountMinSpacingMs: 0, accountConcurrency: 4, ...overrides });
  return services;
}

let counter = 0;
/** A refresh token that passes the truncation check (real ones are several hundred chars). */
export function longToken(tag = "t"): string {
  return `aorA${tag}-${++counter}-${crypto.randomUUID()}`.padEnd(160, "x");
}

export async function servicesFor(fake: FakeKiro, overrides: Partial<AppConfig> = {}): Promise<Services> {
  return makeServices({ apiUrl: fake.upstream.apiUrl, authUrl: fake.upstream.authUrl, oidcUrl: fake.upstream.oidcUrl, ...overrides });
}

/** Adds an account to both the fake and the pool. */
export async function addBoth(fake: FakeKiro, pool: AccountPool, init: Parameters<FakeKiro["addAccount"]>[0] & { label?: string }) {
  const fa = fake.addAccount(init);
  const kind = init.kind ?? "social";
  const r = await pool.upsert({ kind, refreshToken: init.refreshToken, clientId: init.clientId, clientSecret: init.clientSecret, label: init.label });
  if (r.outcome !== "added") throw new Error(`upsert failed: ${r.why}`);
  return { fake: fa, id: r.id };
}

export const request = (text: string) => textRequest(text, { maxTokens: 256 });

export type DriveResult = {
  servedBy?: string;
  text?: string;
  error?: KiroError;
  unavailable?: PoolUnavailable;
  decisions: Array<{ accountId: string; cls: string; decision: FailureDecision }>;
};

/** What the turn runner does, minus streaming to a client. */
export async function drive(s: Services, text: string, opts: { conversationId?: string; maxAttempts?: number } = {}): Promise<DriveResult> {
  const exclude = new Set<string>();
  const decisions: DriveResult["decisions"] = [];
  let lastError: KiroError | undefined;
  for (let attempt = 0; attempt < (opts.maxAttempts ?? 8); ) {
    const lease = s.pool.acquire({ conversationId: opts.conversationId, exclude });
    if (isUnavailable(lease)) return { unavailable: lease, error: lastError, decisions };
    let force = false;
    try {
      for (;;) {
        attempt++;
        try {
          const creds = await lease.credentials({ forceRefresh: force });
          const { events } = await openChat(request(text), creds, { upstream: s.upstream, signal: new AbortController().signal });
          let out = "";
          for await (const e of events as AsyncIterable<CanonicalEvent>) if (e.type === "text") out += e.text;
          lease.success({ usage: { credits: 1 } });
          return { servedBy: lease.accountId, text: out, decisions };
        } catch (err) {
          const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
          lastError = k;
          const d = lease.failure(k);
          decisions.push({ accountId: lease.accountId, cls: k.cls, decision: d });
          if (d.action === "return_to_client") return { error: k, decisions };
          if (d.action === "next_account" || attempt >= (opts.maxAttempts ?? 8)) break;
          force = d.forceRefresh === true;
          if (d.delayMs) await Bun.sleep(Math.min(d.delayMs, 50));
        }
      }
    } finally {
      lease.release();
    }
    exclude.add(lease.accountId);
  }
  return { error: lastError, decisions };
}
