/**
 * Per-account upstream proxy on the refresh path: RefreshInput.proxy / TokenAccount.proxy win over
 * the process-wide upstream.proxy, and a network failure names the proxy without its credentials.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { refreshAccessToken } from "../../src/kiro/auth";
import type { KiroUpstreamConfig } from "../../src/kiro/config";
import { KiroError } from "../../src/kiro/errors";
import { proxyLabel } from "../../src/kiro/http";
import { TokenManager } from "../../src/kiro/token-manager";
import { type FakeKiro, startFakeKiro } from "../fake-kiro/server";

let fake: FakeKiro;
let upstream: KiroUpstreamConfig;
/** A minimal forward proxy for plain-http targets: records the absolute request URI and relays. */
let proxy: ReturnType<typeof Bun.serve>;
const proxied: string[] = [];
const DEAD_PROXY = "http://proxyuser:s3cret-pw@127.0.0.1:1";

beforeAll(async () => {
  fake = await startFakeKiro();
  upstream = { ...fake.upstream, proxy: DEAD_PROXY }; // the process-wide proxy is unusable
  proxy = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      proxied.push(`${req.method} ${req.url}`);
      const headers = new Headers(req.headers);
      headers.delete("proxy-authorization");
      const res = await fetch(req.url, { method: req.method, headers, body: await req.arrayBuffer() });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    },
  });
});
afterAll(async () => {
  proxy.stop(true);
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
  proxied.length = 0;
});

const liveProxy = () => `http://127.0.0.1:${proxy.port}`;

test("the account's proxy wins over upstream.proxy (social refresh goes through it)", async () => {
  const refreshToken = "aorAproxy1".padEnd(120, "p");
  fake.addAccount({ refreshToken });
  const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "m", proxy: liveProxy() }, upstream);
  expect(r.accessToken).toStartWith("aoaA");
  expect(proxied).toEqual([`POST ${fake.url}/refreshToken`]);
});

test("IdC refresh uses the account's proxy too", async () => {
  const refreshToken = "aorAproxy2".padEnd(120, "p");
  const acct = fake.addAccount({ refreshToken, kind: "idc" });
  const r = await refreshAccessToken(
    { kind: "idc", refreshToken, clientId: acct.clientId, clientSecret: acct.clientSecret, authRegion: "us-east-1", machineId: "m", proxy: liveProxy() },
    upstream,
  );
  expect(r.accessToken).toBe(acct.accessToken!);
  expect(proxied).toEqual([`POST ${fake.url}/token`]);
});

test("TokenManager passes TokenAccount.proxy to the refresh", async () => {
  const refreshToken = "aorAproxy3".padEnd(120, "p");
  fake.addAccount({ refreshToken });
  const tm = new TokenManager({ upstream });
  const token = await tm.getAccessToken({ id: "a3", kind: "social", refreshToken, authRegion: "us-east-1", machineId: "m", proxy: liveProxy(), persist() {} });
  expect(token).toStartWith("aoaA");
  expect(proxied.length).toBe(1);
});

test("a failing proxy is named in the error, without its credentials", async () => {
  const refreshToken = "aorAproxy4".padEnd(120, "p");
  fake.addAccount({ refreshToken });
  let err: unknown;
  try {
    await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "m" }, upstream); // upstream.proxy = dead
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KiroError);
  const e = err as KiroError;
  expect(e.cls).toBe("transient"); // refresh network failures never fall back to another endpoint family
  expect(e.upstreamMessage).toEndWith("via proxy http://127.0.0.1:1");
  expect(e.message).not.toContain("s3cret");
  expect(e.message).not.toContain("proxyuser");
  expect(fake.refreshCalls.length).toBe(0);
});

test("proxyLabel keeps scheme, host and port only", () => {
  expect(proxyLabel("http://u:p@proxy.example:3128/path?x=1")).toBe("http://proxy.example:3128");
  expect(proxyLabel("https://proxy.example")).toBe("https://proxy.example");
  expect(proxyLabel("not a url")).toBe("(unparsable proxy URL)");
});
