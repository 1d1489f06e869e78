/**
 * The real Codex CLI (@openai/codex, offline) against a kiro-server started by startE2E: a temporary
 * CODEX_HOME configured by `kiro-server codex-config`, a temporary working directory, and `codex exec`.
 *
 *   const available = codexAvailable("tests/responses/x.test.ts");
 *   const codex = await startCodex(e, "x");   // in beforeAll, when available
 *   const r = await codex.exec("say hello", {json: true});
 *   codex.stop();                              // in afterAll
 */
import { expect } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCodexConfigCommand } from "../../src/cli/codex-config";
import type { E2E } from "./e2e";

export const CODEX = join(import.meta.dir, "../../node_modules/.bin/codex");

/** Test-only provider keys: fail fast instead of Codex's default retries. They land in the provider table. */
const FAIL_FAST = "request_max_retries = 0\nstream_max_retries = 0\nstream_idle_timeout_ms = 20000\n";

export type CodexRun = { code: number; stdout: string; stderr: string };

export type Codex = {
  /** The CODEX_HOME written by codex-config (plus the fail-fast keys). */
  home: string;
  /** The directory `codex exec` runs in. */
  work: string;
  /** `codex exec` with approvals and sandbox off; `json` adds `--json`, `home` runs with another CODEX_HOME. */
  exec(prompt: string, opts?: { json?: boolean; home?: string }): Promise<CodexRun>;
  /** Removes both temporary directories. */
  stop(): void;
};

/** Whether the CLI starts on this platform at all (the npm package ships per-platform binaries). */
function codexStarts(): boolean {
  if (!existsSync(CODEX)) return false;
  try {
    const r = Bun.spawnSync([CODEX, "--version"], { stdout: "pipe", stderr: "pipe" });
    return r.exitCode === 0 && /codex-cli/.test(r.stdout.toString());
  } catch {
    return false;
  }
}

/** codexStarts(), with a notice naming the test file that is skipped when it does not. */
export function codexAvailable(testFile: string): boolean {
  const available = codexStarts();
  if (!available) console.warn(`NOTICE: ${testFile} skipped: the Codex CLI cannot start on this platform`);
  return available;
}

/** Runs `kiro-server codex-config` into `home` for the server at `e`; returns its exit code. */
export function codexConfig(e: E2E, home: string): Promise<number> {
  return runCodexConfigCommand(["--codex-home", home, "--base-url", `${e.url}/v1`, "--codex", CODEX], { PATH: process.env.PATH }, () => {});
}

/** A configured CODEX_HOME and working directory for the server at `e`; `name` tags the temporary directories. */
export async function startCodex(e: E2E, name: string): Promise<Codex> {
  const home = mkdtempSync(join(tmpdir(), `kiro-${name}-home-`));
  const work = mkdtempSync(join(tmpdir(), `kiro-${name}-work-`));
  expect(await codexConfig(e, home)).toBe(0);
  appendFileSync(join(home, "config.toml"), FAIL_FAST);
  return {
    home,
    work,
    exec: async (prompt, opts = {}) => {
      const codexHome = opts.home ?? home;
      const flags = ["--skip-git-repo-check", ...(opts.json ? ["--json"] : []), "--dangerously-bypass-approvals-and-sandbox"];
      const p = Bun.spawn([CODEX, "exec", ...flags, prompt], {
        cwd: work,
        env: { PATH: process.env.PATH ?? "", HOME: codexHome, CODEX_HOME: codexHome, KIRO_API_KEY: e.clientKey, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
      });
      const kill = setTimeout(() => p.kill(), 60_000);
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      clearTimeout(kill);
      return { code, stdout, stderr };
    },
    stop: () => {
      rmSync(home, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
}
