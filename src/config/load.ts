import { SETTINGS, configSchema, type AppConfig, type SettingName } from "./schema";
import { defaultDbPath } from "./paths";
import { hostname } from "node:os";
import { isPostgresUrl } from "../db/pg/url";

/** A configuration problem the user must fix: printed as one line, exit code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type ParsedArgs = { values: Partial<Record<SettingName, string>>; help: boolean; version: boolean; rest: string[] };

const byFlag = new Map<string, SettingName>(Object.entries(SETTINGS).map(([name, s]) => [s.flag, name as SettingName]));

/** Accepts `--port 80` and `--port=80`; anything unknown is an error, not silently ignored. */
export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { values: {}, help: false, version: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") { out.help = true; continue; }
    if (arg === "--version" || arg === "-v") { out.version = true; continue; }
    if (!arg.startsWith("--")) { out.rest.push(arg); continue; }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const name = byFlag.get(flag);
    if (!name) throw new ConfigError(`unknown option ${flag} (see --help)`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value: ${SETTINGS[name].allowed}`);
    out.values[name] = value;
  }
  return out;
}

/** Precedence: CLI flag > environment > default. Empty env values count as unset. */
export function loadConfig(argv: string[], env: Record<string, string | undefined> = process.env): { config: AppConfig; args: ParsedArgs } {
  const args = parseArgs(argv);
  const raw: Record<string, unknown> = {};
  const sourceOf: Record<string, string> = {};
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const fromFlag = args.values[name];
    const envNames = "altEnv" in s ? [s.env, s.altEnv] : [s.env];
    const envName = envNames.find((n) => env[n] !== undefined && env[n] !== "");
    if (fromFlag !== undefined) { raw[name] = fromFlag; sourceOf[name] = s.flag; }
    else if (envName) { raw[name] = env[envName]; sourceOf[name] = envName; }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path[0] as SettingName;
    const shown = SETTINGS[name].env.includes("TOKEN") || name === "secretKey" ? "(hidden)" : JSON.stringify(raw[name]);
    // A setting's own check may name the bad part of a list (e.g. one entry of KIRO_ALLOWED_HOSTS).
    const detail = issue.code === "custom" ? ` (${issue.message})` : "";
    throw new ConfigError(`invalid setting ${sourceOf[name] ?? name}=${shown}: expected ${SETTINGS[name].allowed}${detail}`);
  }
  if (isPostgresUrl(parsed.data.databaseUrl) && !parsed.data.secretKey) {
    throw new ConfigError(
      `${sourceOf.databaseUrl ?? "DATABASE_URL"} selects PostgreSQL, which several instances share: set KIRO_SECRET_KEY (or --secret-key), the same on every instance, so each can decrypt the stored tokens`,
    );
  }
  const instanceId = parsed.data.instanceId ?? `${hostname().split(".")[0]!.replace(/[^A-Za-z0-9_-]/g, "-") || "kiro"}-${process.pid}`;
  return { config: { ...parsed.data, dbPath: parsed.data.dbPath ?? defaultDbPath(env), instanceId }, args };
}

export function helpText(version: string): string {
  const rows = Object.values(SETTINGS).map((s) => {
    const env = "altEnv" in s ? `${s.env} / ${s.altEnv}` : s.env;
    return `  ${(s.flag + " <value>").padEnd(28)} ${env.padEnd(28)} ${s.help}`;
  });
  return [
    `kiro-server ${version} — OpenAI- and Anthropic-compatible API in front of a pool of Kiro accounts`,
    "",
    "Usage:",
    "  kiro-server [options]                 start the server (default http://127.0.0.1:7860)",
    "  kiro-server import FILE               import accounts from a JSON file",
    "  kiro-server import --from-kiro-ide    import the Kiro IDE's logged-in account",
    "  kiro-server import --from-kiro-cli    import kiro-cli's logged-in account",
    "  kiro-server migrate-store --to URL    copy this SQLite store into PostgreSQL (needs KIRO_SECRET_KEY)",
    "    (KIRO_IDE_TOKEN_PATH / KIRO_CLI_DB_PATH override where those are read from)",
    "  kiro-server codex-config              set up the Codex CLI for this server (codex-config --help)",
    "",
    "Options (flag, environment variable; flags win over the environment):",
    ...rows,
    "  --help, -h                                                 show this help",
    "  --version, -v                                              print the version",
  ].join("\n");
}
