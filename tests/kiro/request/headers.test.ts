import { describe, expect, test } from "bun:test";
import { kiroHeaders, machineIdFor } from "../../../src/kiro/request/headers";

describe("kiroHeaders", () => {
  const mid = machineIdFor("account-1");
  test("IDE-shaped headers for a social account", () => {
    const h = kiroHeaders({ accessToken: "tok", machineId: mid, authKind: "social", invocationId: "inv-1", attempt: 2 });
    expect(h.authorization).toBe("Bearer tok");
    expect(h["content-type"]).toBe("application/json");
    expect(h["x-amzn-kiro-agent-mode"]).toBe("vibe");
    expect(h["x-amzn-codewhisperer-optout"]).toBe("true");
    expect(h["amz-sdk-invocation-id"]).toBe("inv-1");
    expect(h["amz-sdk-request"]).toBe("attempt=2; max=3");
    expect(h["x-amz-user-agent"]).toBe(`aws-sdk-js/1.0.45 KiroIDE-0.11.107-${mid}`);
    expect(h["user-agent"]).toMatch(new RegExp(`^aws-sdk-js/1\\.0\\.45 ua/2\\.1 os/\\S+ lang/js md/nodejs#\\S+ api/codewhispererstreaming#1\\.0\\.45 m/E KiroIDE-0\\.11\\.107-${mid}$`));
    expect(h.tokentype).toBeUndefined();
  });
  test("api keys add tokentype; max attempts configurable; invocation id generated", () => {
    const h = kiroHeaders({ accessToken: "ksk_x", machineId: mid, authKind: "api_key", maxAttempts: 5 });
    expect(h.tokentype).toBe("API_KEY");
    expect(h.authorization).toBe("Bearer ksk_x");
    expect(h["amz-sdk-request"]).toBe("attempt=1; max=5");
    expect(h["amz-sdk-invocation-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("machineIdFor", () => {
  test("stable 64-hex per seed, different across seeds", () => {
    expect(machineIdFor("a")).toMatch(/^[0-9a-f]{64}$/);
    expect(machineIdFor("a")).toBe(machineIdFor("a"));
    expect(machineIdFor("a")).not.toBe(machineIdFor("b"));
  });
  test("imported ids are kept (64-hex) or expanded (UUID: de-dashed and doubled, as kiro.rs does)", () => {
    const hex = "A".repeat(64);
    expect(machineIdFor(hex)).toBe("a".repeat(64));
    expect(machineIdFor("0b4445e1-f5be-49e1-87ce-62bbc28ad705")).toBe("0b4445e1f5be49e187ce62bbc28ad705".repeat(2));
  });
});
