import { afterAll, beforeAll, beforeEach, expect } from "bun:test";
import type { CanonicalRequest } from "../../src/core/canonical";
import { refreshAccessToken } from "../../src/kiro/auth";
import type { KiroCredentials } from "../../src/kiro/client";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { KiroError } from "../../src/kiro/errors";
import { type FakeAccount, type FakeAccountInit, type FakeKiro, startFakeKiro } from "../fake-kiro/server";
import { model } from "./models";

/** A minimal canonical request: one user text message, no tools, thinking off. */
export function textRequest(text: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: model("claude-sonnet-4-5"),
    system: "",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    tools: [],
    maxTokens: 1024,
    stopSequences: [],
    thinking: { type: "disabled" },
    metadata: { dialect: "anthropic" },
    ...extra,
  };
}

/** Awaits `p`, expecting it to reject with a KiroError, and returns that error. */
export async function kiroRejection(p: Promise<unknown>): Promise<KiroError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KiroError);
    return e as KiroError;
  }
  throw new Error("expected a KiroError rejection");
}

/** A fresh refresh token of the real shape (the pool rejects short tokens). */
export function fakeRefreshToken(): string {
  return "aorA" + Buffer.from(crypto.getRandomValues(new Uint8Array(150))).toString("base64url").slice(0, 176);
}

export type FakeAccountCredentials = { account: FakeAccount; creds: KiroCredentials };

/**
 * Adds an account to `fake` and refreshes it through the fake's own auth endpoint: the account and
 * credentials with a live access token, in us-east-1, with a machine id of its own. The account is
 * social unless `init.kind` says "idc" (which refreshes with the account's client id and secret).
 */
export async function fakeAccount(fake: FakeKiro, init: Omit<FakeAccountInit, "refreshToken"> = {}): Promise<FakeAccountCredentials> {
  const account = fake.addAccount({ refreshToken: fakeRefreshToken(), ...init });
  const kind = init.kind ?? "social";
  const machineId = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  const r = await refreshAccessToken(
    { kind, refreshToken: account.refreshToken, clientId: account.clientId, clientSecret: account.clientSecret, authRegion: "us-east-1", machineId },
    { ...fake.upstream },
  );
  return { account, creds: { accessToken: r.accessToken, authKind: kind, region: "us-east-1", profileArn: r.profileArn, machineId } };
}

export type FakeKiroFixture = {
  /** The running fake (throws before the file's beforeAll has run). */
  readonly fake: FakeKiro;
  /** Upstream config pointing at the fake (apiUrl pinned, so no endpoint-family fallback). */
  readonly upstream: KiroUpstreamConfig;
  /** fakeAccount() on this fake, credentials only. */
  creds(init?: Omit<FakeAccountInit, "refreshToken">): Promise<KiroCredentials>;
  /** fakeAccount() on this fake. */
  account(init?: Omit<FakeAccountInit, "refreshToken">): Promise<FakeAccountCredentials>;
};

/** The strict fake Kiro for one test file: started before all its tests, reset before each, stopped after all. */
export function useFakeKiro(): FakeKiroFixture {
  let fake: FakeKiro | undefined;
  let upstream: KiroUpstreamConfig | undefined;
  beforeAll(async () => {
    fake = await startFakeKiro();
    upstream = { ...fake.upstream };
  });
  afterAll(() => fake?.stop());
  beforeEach(() => fake?.reset());
  const started = (): FakeKiro => {
    if (!fake) throw new Error("useFakeKiro: the fake is started in beforeAll");
    return fake;
  };
  return {
    get fake() {
      return started();
    },
    get upstream() {
      started();
      return upstream!;
    },
    creds: async (init) => (await fakeAccount(started(), init)).creds,
    account: (init) => fakeAccount(started(), init),
  };
}
