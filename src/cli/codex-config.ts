/**
 * `kiro-server codex-config`: sets up the Codex CLI to use this server in one step.
 *
 * Writes into CODEX_HOME (default ~/.codex):
 * - `kiro-models.json`, a model catalogue with one entry per model this server serves (context
 *   window, freeform `apply_patch`). Codex never asks a server for its models; for a model name
 *   missing from its catalogue it falls back to metadata without the `apply_patch` tool.
 * - `config.toml`: the default model, `model_provider = "kiro"`, `model_catalog_json`, and a
 *   `[model_providers.kiro]` table (`wire_api = "responses"`, `env_key`, base URL), inside
 *   marked blocks that a re-run replaces. Other settings in the file are left as they are.
 * The catalogue entries are built on Codex's own entry for a freeform-apply_patch model (from
 * `codex debug models`, so the prompt and tool settings match the installed Codex); without a
 * Codex binary a built-in minimal entry is used.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../config/load";
import { listModels } from "../core/models";

export const CODEX_CONFIG_HELP = `usage: kiro-server codex-config [--codex-home DIR] [--base-url URL] [--model NAME] [--env-key NAME] [--codex PATH] [--print] [server options]
  --codex-home DIR  Codex's config folder (default: $CODEX_HOME, else ~/.codex)
  --base-url URL    this server's /v1 URL (default: from --host/--port, http://127.0.0.1:7860/v1)
  --model NAME      Codex's default model (default: claude-sonnet-4-5)
  --env-key NAME    environment variable holding the kiro-server client key (default: KIRO_API_KEY)
  --codex PATH      the codex binary whose catalogue entry is the template (default: codex on PATH)
  --print           print the files instead of writing them`;

const OWN_FLAGS = ["--codex-home", "--base-url", "--model", "--env-key", "--codex"] as const;
const START = "# >>> kiro-server codex-config (re-run `kiro-server codex-config` to update)";
const END = "# <<< kiro-server codex-config";
const PROVIDER_START = "# >>> kiro-server codex-config provider";
const PROVIDER_END = "# <<< kiro-server codex-config provider";
const CATALOG_FILE = "kiro-models.json";

type Entry = Record<string, unknown>;

export async function runCodexConfigCommand(argv: string[], env: Record<string, string | undefined> = process.env, out: (line: string) => void = console.log): Promise<number> {
  const own: Partial<Record<(typeof OWN_FLAGS)[number], string>> = {};
  let print = false;
  const serverArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if ((OWN_FLAGS as readonly string[]).includes(flag)) {
      const v = inline ?? argv[++i];
      if (!v) throw new ConfigError(`option ${flag} needs a value\n${CODEX_CONFIG_HELP}`);
      own[flag as (typeof OWN_FLAGS)[number]] = v;
    } else if (a === "--print") print = true;
    else if (a === "--help" || a === "-h") {
      out(CODEX_CONFIG_HELP);
      return 0;
    } else serverArgs.push(a);
  }
  const { config } = loadConfig(serverArgs, env);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const baseUrl = (own["--base-url"] ?? `http://${host}:${config.port}/v1`).replace(/\/+$/, "");
  const home = resolve(own["--codex-home"] ?? env.CODEX_HOME ?? join(homedir(), ".codex"));
  const envKey = own["--env-key"] ?? "KIRO_API_KEY";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envKey)) throw new ConfigError(`--env-key must be an environment variable name, got "${envKey}"`);
  const names = listModels().filter((m) => !m.aliasOf);
  const model = own["--model"] ?? "claude-sonnet-4-5";
  if (!names.some((m) => m.name === model)) throw new ConfigError(`--model: unknown model "${model}"; one of ${names.map((m) => m.name).join(", ")}`);

  const template = await codexTemplate(own["--codex"], env);
  const catalog = { models: names.map((m, i) => modelEntry(template.entry, m.name, m.upstreamId, m.contextWindow, i)) };
  const catalogPath = join(home, CATALOG_FILE);
  const configPath = join(home, "config.toml");
  const existing = existsSync(configPath) ? readFileSync(configPath, "utf8") : "";
  const toml = mergeConfig(existing, { model, catalogPath, baseUrl, envKey });

  if (print) {
    out(`# ${configPath}`);
    out(toml);
    out(`# ${catalogPath}`);
    out(JSON.stringify(catalog, null, 2));
    return 0;
  }
  mkdirSync(home, { recursive: true });
  writeFileSync(catalogPath, JSON.stringify(catalog, null, 2) + "\n");
  writeFileSync(configPath, toml);
  out(`wrote ${configPath} (provider "kiro", ${baseUrl}, default model ${model})`);
  out(`wrote ${catalogPath} (${catalog.models.length} models; entries based on ${template.source})`);
  out(`set ${envKey} to your kiro-server client key (admin panel → Keys), then run: codex`);
  return 0;
}

/** Replaces our marked blocks (or adds them): top-level keys first in the file, the provider table last. */
export function mergeConfig(existing: string, o: { model: string; catalogPath: string; baseUrl: string; envKey: string }): string {
  const rest = stripBlock(stripBlock(existing, START, END), PROVIDER_START, PROVIDER_END).trim();
  for (const key of ["model", "model_provider", "model_catalog_json"]) {
    // Only keys before the first table are top-level in TOML.
    const top = rest.split(/^\s*\[/m)[0] ?? "";
    if (new RegExp(`^\\s*${key}\\s*=`, "m").test(top)) {
      throw new ConfigError(`${key} is already set in config.toml: remove that line (kiro-server codex-config sets it) or use --print and merge by hand`);
    }
  }
  if (/^\s*\[model_providers\.kiro\]/m.test(rest)) throw new ConfigError("config.toml already has a [model_providers.kiro] table: remove it or use --print and merge by hand");
  const q = (s: string) => JSON.stringify(s);
  const head = [START, `model = ${q(o.model)}`, `model_provider = "kiro"`, `model_catalog_json = ${q(o.catalogPath)}`, END].join("\n");
  const provider = [
    PROVIDER_START,
    "[model_providers.kiro]",
    `name = "kiro-server"`,
    `base_url = ${q(o.baseUrl)}`,
    `wire_api = "responses"`,
    `env_key = ${q(o.envKey)}`,
    PROVIDER_END,
  ].join("\n");
  return [head, rest, provider].filter(Boolean).join("\n\n") + "\n";
}

function stripBlock(text: string, start: string, end: string): string {
  const a = text.indexOf(start);
  if (a < 0) return text;
  const b = text.indexOf(end, a);
  return b < 0 ? text : text.slice(0, a) + text.slice(b + end.length);
}

/** One catalogue entry: the template with this model's name and context window. */
export function modelEntry(template: Entry, name: string, upstreamId: string, contextWindow: number, priority: number): Entry {
  return {
    ...template,
    slug: name,
    display_name: name,
    description: `Claude (${upstreamId}) through kiro-server`,
    context_window: contextWindow,
    max_context_window: contextWindow,
    priority,
    apply_patch_tool_type: "freeform",
    visibility: "list",
    supported_in_api: true,
    upgrade: null,
    availability_nux: null,
    additional_speed_tiers: [],
    service_tiers: [],
  };
}

/** Codex's own entry for a freeform-apply_patch model, or the built-in minimal one. */
async function codexTemplate(codexPath: string | undefined, env: Record<string, string | undefined>): Promise<{ entry: Entry; source: string }> {
  const bin = codexPath ?? Bun.which("codex", { PATH: env.PATH ?? "" });
  if (bin) {
    // An empty CODEX_HOME: the bundled catalogue, not one a previous run configured.
    const scratch = mkdtempSync(join(tmpdir(), "kiro-codex-"));
    try {
      const p = Bun.spawn([bin, "debug", "models"], { stdout: "pipe", stderr: "ignore", env: { ...env, CODEX_HOME: scratch } });
      const text = await new Response(p.stdout).text();
      if ((await p.exited) === 0) {
        const models = (JSON.parse(text) as { models?: Entry[] }).models ?? [];
        // gpt-5.5 is a general coding model with freeform apply_patch; else any such entry.
        const usable = models.filter((m) => m.apply_patch_tool_type === "freeform" && typeof m.base_instructions === "string");
        const entry = usable.find((m) => m.slug === "gpt-5.5") ?? usable[0];
        if (entry) return { entry, source: `${bin} (${String(entry.slug)})` };
      }
    } catch {
      // fall through to the built-in entry
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    if (codexPath) throw new ConfigError(`--codex ${codexPath}: could not read its model catalogue (codex debug models)`);
  }
  return { entry: BUILTIN, source: "the built-in entry (no codex binary found)" };
}

/** The fields Codex 0.169 requires in a catalogue entry, with a short base prompt. */
const BUILTIN: Entry = {
  slug: "",
  display_name: "",
  supported_reasoning_levels: [
    { effort: "low", description: "Fast responses with lighter reasoning" },
    { effort: "medium", description: "Balances speed and reasoning depth" },
    { effort: "high", description: "Greater reasoning depth for complex problems" },
  ],
  default_reasoning_level: "medium",
  shell_type: "unified_exec",
  visibility: "list",
  supported_in_api: true,
  priority: 0,
  support_verbosity: false,
  truncation_policy: { mode: "tokens", limit: 10000 },
  experimental_supported_tools: [],
  apply_patch_tool_type: "freeform",
  input_modalities: ["text", "image"],
  base_instructions:
    "You are Codex, a coding agent working in the user's workspace. Read the code before changing it, keep changes focused, " +
    "use the shell tool to inspect and test, and edit files with the apply_patch tool. When done, summarise what you changed.",
};
