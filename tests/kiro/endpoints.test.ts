/** Host families, region rules, overrides and the remembered-family TTL (docs/upstream.md, Hosts and endpoint families; Region). */
import { describe, expect, test } from "bun:test";
import {
  apiRegionFor,
  authRegionFor,
  type EndpointLogEvent,
  EndpointSelector,
  familyRequiresProfileArn,
  oidcTokenUrl,
  regionFromProfileArn,
  socialRefreshUrl,
  withRegion,
} from "../../src/kiro/endpoints";

describe("default families", () => {
  const sel = new EndpointSelector();
  test("us-east-1: A, B, C newest first", () => {
    const c = sel.candidates("us-east-1", { region: "us-east-1" });
    expect(c.map((e) => [e.family, e.baseUrl])).toEqual([
      ["A", "https://runtime.us-east-1.kiro.dev"],
      ["B", "https://q.us-east-1.amazonaws.com"],
      ["C", "https://codewhisperer.us-east-1.amazonaws.com"],
    ]);
    expect(c[0]!.managementUrl).toBe("https://management.us-east-1.kiro.dev");
    expect(c[1]!.managementUrl).toBe(c[1]!.baseUrl);
  });
  test("eu-central-1: no family C", () => {
    expect(sel.candidates("eu-central-1", { region: "us-east-1" }).map((e) => e.baseUrl)).toEqual([
      "https://runtime.eu-central-1.kiro.dev",
      "https://q.eu-central-1.amazonaws.com",
    ]);
  });
  test("apiUrl pins a single host, {region} substituted, trailing slash dropped", () => {
    const c = sel.candidates("eu-central-1", { region: "us-east-1", apiUrl: "https://proxy.example/{region}/" });
    expect(c).toEqual([{ family: "custom", baseUrl: "https://proxy.example/eu-central-1", managementUrl: "https://proxy.example/eu-central-1", region: "eu-central-1" }]);
  });
});

describe("remembered family", () => {
  test("reused until the TTL, then the newer family is tried again; logged only on change", () => {
    let now = 0;
    const logs: EndpointLogEvent[] = [];
    const sel = new EndpointSelector({ ttlMs: 1000, now: () => now, log: (e) => logs.push(e) });
    const up = { region: "us-east-1" };
    const b = sel.candidates("us-east-1", up)[1]!;
    sel.reportWorking("us-east-1", b);
    expect(sel.candidates("us-east-1", up).map((e) => e.family)).toEqual(["B", "A", "C"]);
    now = 500;
    sel.reportWorking("us-east-1", b); // still B: must not extend the TTL
    now = 1000;
    expect(sel.candidates("us-east-1", up).map((e) => e.family)).toEqual(["A", "B", "C"]);
    sel.reportWorking("us-east-1", b); // A still gone → B again, TTL restarts
    expect(sel.candidates("us-east-1", up)[0]!.family).toBe("B");
    expect(logs.map((l) => l.family)).toEqual(["B"]);
    sel.reportWorking("us-east-1", sel.candidates("us-east-1", up)[1]!); // migration to A
    expect(logs.map((l) => [l.family, l.previous])).toEqual([["B", undefined], ["A", "B"]]);
    // Regions are independent.
    expect(sel.rememberedFamily("eu-central-1")).toBeUndefined();
  });
});

describe("regions and auth URLs", () => {
  const arn = "arn:aws:codewhisperer:eu-central-1:123456789012:profile/ABCDEF";
  test("API region comes from the profile ARN first", () => {
    expect(regionFromProfileArn(arn)).toBe("eu-central-1");
    expect(regionFromProfileArn("not-an-arn")).toBeUndefined();
    expect(apiRegionFor(arn, "us-east-1")).toBe("eu-central-1");
    expect(apiRegionFor(undefined, "eu-central-1")).toBe("eu-central-1");
    expect(apiRegionFor(undefined, "")).toBe("us-east-1");
  });
  test("auth region precedence (kiro.rs's effective_auth_region)", () => {
    expect(authRegionFor({ credentialAuthRegion: "a", credentialRegion: "b", configAuthRegion: "c", configRegion: "d" })).toBe("a");
    expect(authRegionFor({ credentialRegion: "b", configAuthRegion: "c", configRegion: "d" })).toBe("b");
    expect(authRegionFor({ configAuthRegion: "c", configRegion: "d" })).toBe("c");
    expect(authRegionFor({ configRegion: "d" })).toBe("d");
    expect(authRegionFor({})).toBe("us-east-1");
  });
  test("social and OIDC URLs: defaults and overrides", () => {
    expect(socialRefreshUrl({ region: "us-east-1" }, "eu-central-1")).toBe("https://prod.eu-central-1.auth.desktop.kiro.dev/refreshToken");
    expect(oidcTokenUrl({ region: "us-east-1" }, "eu-central-1")).toBe("https://oidc.eu-central-1.amazonaws.com/token");
    expect(socialRefreshUrl({ region: "x", authUrl: "http://127.0.0.1:9000/" }, "us-east-1")).toBe("http://127.0.0.1:9000/refreshToken");
    expect(oidcTokenUrl({ region: "x", oidcUrl: "http://fake/{region}" }, "us-west-2")).toBe("http://fake/us-west-2/token");
    expect(withRegion("https://q.{region}.amazonaws.com", "us-east-1")).toBe("https://q.us-east-1.amazonaws.com");
  });
  test("profileArn rule: only family A requires one", () => {
    expect(familyRequiresProfileArn("A")).toBe(true);
    expect(familyRequiresProfileArn("B")).toBe(false);
    expect(familyRequiresProfileArn("C")).toBe(false);
  });
});

describe("accounts family A refused for lacking an ARN", () => {
  test("remembered per machineId until the TTL ends", () => {
    let now = 0;
    const sel = new EndpointSelector({ ttlMs: 1000, now: () => now });
    expect(sel.knownToLackArn("m1")).toBe(false);
    sel.rememberLacksArn("m1");
    expect(sel.knownToLackArn("m1")).toBe(true);
    expect(sel.knownToLackArn("m2")).toBe(false);
    now = 999;
    expect(sel.knownToLackArn("m1")).toBe(true);
    now = 1000;
    expect(sel.knownToLackArn("m1")).toBe(false);
  });
});
