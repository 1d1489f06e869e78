import { describe, expect, test } from "bun:test";
import { ConfigError, helpText, loadConfig, parseArgs } from "../../src/config/load";
import { SETTINGS } from "../../src/config/schema";
import { defaultDbPath } from "../../src/config/paths";

describe("configuration precedence", () => {
  test("defaults when nothing is set", () => {
    const { config } = loadConfig([], { HOME: "/home/u" });
    expect(config.port).toBe(7860);
    expect(config.host).toBe("127.0.0.1");
    expect(config.region).toBe("us-east-1");
    expect(config.logLevel).toBe("info");
    expect(config.logFormat).toBe("pretty");
    expect(config.strategy).toBe("balanced");
    expect(config.keepAliveMs).toBe(10000);
    expect(config.clientToken).toBeUndefined();
    expect(config.dbPath).toBe(defaultDbPath({ HOME: "/home/u" }));
  });

  test("environment overrides defaults, flags override environment", () => {
    const env = { PORT: "8000", HOST: "0.0.0.0", KIRO_KV_PATH: "/tmp/env.db", LOG_FORMAT: "json" };
    expect(loadConfig([], env).config).toMatchObject({ port: 8000, host: "0.0.0.0", dbPath: "/tmp/env.db", logFormat: "json" });
    const { config } = loadConfig(["--port", "9000", "--db=/tmp/flag.db"], env);
    expect(config.port).toBe(9000);
    expect(config.dbPath).toBe("/tmp/flag.db");
    expect(config.host).toBe("0.0.0.0"); // untouched by flags: env still wins over default
  });

  test("empty environment values count as unset", () => {
    expect(loadConfig([], { PORT: "" }).config.port).toBe(7860);
  });

  test("KIRO_PROXY wins over HTTPS_PROXY", () => {
    expect(loadConfig([], { HTTPS_PROXY: "http://a:1" }).config.proxy).toBe("http://a:1");
    expect(loadConfig([], { HTTPS_PROXY: "http://a:1", KIRO_PROXY: "http://b:2" }).config.proxy).toBe("http://b:2");
  });

  test("XDG_DATA_HOME decides the default database on Linux", () => {
    if (process.platform !== "linux") return;
    expect(loadConfig([], { HOME: "/h", XDG_DATA_HOME: "/data" }).config.dbPath).toBe("/data/kiro-server/kiro-server.db");
    expect(loadConfig([], { HOME: "/h" }).config.dbPath).toBe("/h/.local/share/kiro-server/kiro-server.db");
  });

  test("every Kiro upstream override is read", () => {
    const { config } = loadConfig([], {
      KIRO_API_URL: "http://127.0.0.1:1/{region}", KIRO_AUTH_URL: "http://127.0.0.1:2", KIRO_OIDC_URL: "http://127.0.0.1:3", KIRO_REGION: "eu-central-1",
    });
    expect(config).toMatchObject({ apiUrl: "http://127.0.0.1:1/{region}", authUrl: "http://127.0.0.1:2", oidcUrl: "http://127.0.0.1:3", region: "eu-central-1" });
  });
});

describe("configuration validation", () => {
  // One bad value per setting that has constraints: the message names the setting, the value and what is allowed.
  const cases: Array<[string, Record<string, string>, string[], RegExp]> = [
    ["PORT not a number", { PORT: "abc" }, [], /^invalid setting PORT="abc": expected an integer 0-65535$/],
    ["PORT out of range", { PORT: "70000" }, [], /PORT="70000".*0-65535/],
    ["--port flag", {}, ["--port", "-1"], /--port="-1"/],
    ["HOST empty via flag", {}, ["--host="], /--host="".*host name/],
    ["KIRO_REGION", { KIRO_REGION: "mars" }, [], /KIRO_REGION="mars".*AWS region/],
    ["KIRO_API_URL", { KIRO_API_URL: "not a url" }, [], /KIRO_API_URL="not a url".*http\(s\) URL/],
    ["KIRO_AUTH_URL", { KIRO_AUTH_URL: "ftp://x" }, [], /KIRO_AUTH_URL="ftp:\/\/x"/],
    ["KIRO_OIDC_URL", { KIRO_OIDC_URL: "oidc" }, [], /KIRO_OIDC_URL/],
    ["HTTPS_PROXY", { HTTPS_PROXY: "nope" }, [], /HTTPS_PROXY="nope"/],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }, [], /LOG_LEVEL="loud": expected debug, info, warn or error/],
    ["LOG_FORMAT", { LOG_FORMAT: "xml" }, [], /LOG_FORMAT="xml": expected pretty or json/],
    ["KIRO_STRATEGY", { KIRO_STRATEGY: "random" }, [], /KIRO_STRATEGY="random"/],
    ["KIRO_SHUTDOWN_GRACE_MS", { KIRO_SHUTDOWN_GRACE_MS: "-5" }, [], /KIRO_SHUTDOWN_GRACE_MS/],
    ["KIRO_KEEPALIVE_MS", { KIRO_KEEPALIVE_MS: "10" }, [], /KIRO_KEEPALIVE_MS="10": expected milliseconds 1000-120000/],
  ];
  for (const [name, env, argv, re] of cases) {
    test(name, () => {
      expect(() => loadConfig(argv, env)).toThrow(ConfigError);
      expect(() => loadConfig(argv, env)).toThrow(re);
    });
  }

  test("secrets are never echoed in validation errors", () => {
    let msg = "";
    try { loadConfig([], { KIRO_ADMIN_TOKEN: "short" }); } catch (e) { msg = (e as Error).message; }
    expect(msg).toContain("KIRO_ADMIN_TOKEN=(hidden)");
    expect(msg).not.toContain("short");
    try { loadConfig([], { KIRO_SECRET_KEY: "tiny-secret" }); } catch (e) { msg = (e as Error).message; }
    expect(msg).not.toContain("tiny-secret");
  });

  test("unknown options and missing values are errors", () => {
    expect(() => parseArgs(["--nope"])).toThrow(/unknown option --nope/);
    expect(() => parseArgs(["--port"])).toThrow(/--port needs a value/);
  });

  test("--help lists every setting with its env var", () => {
    const text = helpText("1.2.3");
    for (const s of Object.values(SETTINGS)) {
      expect(text).toContain(s.flag);
      expect(text).toContain(s.env);
    }
    expect(parseArgs(["--help"]).help).toBe(true);
    expect(parseArgs(["-v"]).version).toBe(true);
  });
});
