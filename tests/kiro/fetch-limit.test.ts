import { describe, expect, test } from "bun:test";
import { DEFAULT_UPSTREAM_REQUESTS, raiseFetchLimitEarly, wantedUpstreamRequests } from "../../src/kiro/fetch-limit";
import { SETTINGS } from "../../src/config/schema";
import { loadConfig } from "../../src/config/load";

describe("the fetch limit wanted, read before the config loader", () => {
  test("default, environment, and the flag in both spellings (the flag wins), as the config loader reads them", () => {
    expect(wantedUpstreamRequests([], {})).toBe(DEFAULT_UPSTREAM_REQUESTS);
    expect(wantedUpstreamRequests([], { KIRO_MAX_UPSTREAM_REQUESTS: "300" })).toBe(300);
    expect(wantedUpstreamRequests(["--max-upstream-requests", "400"], { KIRO_MAX_UPSTREAM_REQUESTS: "300" })).toBe(400);
    expect(wantedUpstreamRequests(["--max-upstream-requests=500"], {})).toBe(500);
    for (const [argv, env] of [[[], {}], [[], { KIRO_MAX_UPSTREAM_REQUESTS: "300" }], [["--max-upstream-requests", "400"], {}], [["--max-upstream-requests=500"], {}]] as const) {
      expect(loadConfig([...argv], { ...env }).config.maxUpstreamRequests).toBe(wantedUpstreamRequests([...argv], { ...env })!);
    }
    expect(SETTINGS.maxUpstreamRequests.schema.parse(undefined)).toBe(DEFAULT_UPSTREAM_REQUESTS);
  });

  test("an invalid value is left to the config loader (no restart for it)", () => {
    expect(wantedUpstreamRequests([], { KIRO_MAX_UPSTREAM_REQUESTS: "lots" })).toBeUndefined();
    expect(wantedUpstreamRequests(["--max-upstream-requests", "0"], {})).toBeUndefined();
    expect(wantedUpstreamRequests(["--max-upstream-requests=70000"], {})).toBeUndefined();
  });

  test("commands that never call the upstream, or a limit Bun already has, need no restart", async () => {
    for (const argv of [["import", "x.json"], ["codex-config"], ["migrate-store"], ["--help"], ["--version"]]) {
      expect(await raiseFetchLimitEarly(argv, { KIRO_MAX_UPSTREAM_REQUESTS: "4000" })).toEqual({ kind: "not_needed" });
    }
    expect(await raiseFetchLimitEarly([], { KIRO_MAX_UPSTREAM_REQUESTS: "100" })).toEqual({ kind: "not_needed" });
    expect(await raiseFetchLimitEarly([], { BUN_CONFIG_MAX_HTTP_REQUESTS: "4000" })).toEqual({ kind: "not_needed" });
  });
});
