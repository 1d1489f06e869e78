/**
 * The real Codex CLI (@openai/codex 0.169, offline) with web search: Codex declares its hosted
 * `web_search` tool on every turn; kiro-server serves it through Kiro's MCP search. A turn where
 * the model searches ends with Codex printing the answer built from the results, and the
 * `web_search_call` item reaches Codex. Set up like tests/responses/codex-cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCodexConfigCommand } from "../../src/cli/codex-config";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { textScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

const CODEX = join(import.meta.dir, "../../node_modules/.bin/codex");
const QUERY = "kiro server release notes";

function codexStarts(): boolean {
  if (!existsSync(CODEX)) return false;
  try {
    const r = Bun.spawnSync([CODEX, "--version"], { stdout: "pipe", stderr: "pipe" });
    return r.exitCode === 0 && /codex-cli/.test(r.stdout.toString());
  } catch {
    return false;
  }
}

const available = codexStarts();
if (!available) console.warn("NOTICE: tests/responses/web-search-codex.test.ts skipped: the Codex CLI cannot start on this platform");

let e: E2E;
let home: string;
let work: string;

beforeAll(async () => {
  if (!available) return;
  e = await startE2E();
  home = mkdtempSync(join(tmpdir(), "kiro-codex-ws-home-"));
  work = mkdtempSync(join(tmpdir(), "kiro-codex-ws-work-"));
  const rc = await runCodexConfigCommand(["--codex-home", home, "--base-url", `${e.url}/v1`, "--codex", CODEX], { PATH: process.env.PATH }, () => {});
  expect(rc).toBe(0);
  appendFileSync(join(home, "config.toml"), "request_max_retries = 0\nstream_max_retries = 0\nstream_idle_timeout_ms = 20000\n");
});

afterAll(async () => {
  if (!available) return;
  await e?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function codexExec(prompt: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([CODEX, "exec", "--skip-git-repo-check", "--json", "--dangerously-bypass-approvals-and-sandbox", prompt], {
    cwd: work,
    env: { PATH: process.env.PATH ?? "", HOME: home, CODEX_HOME: home, KIRO_API_KEY: e.clientKey, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const kill = setTimeout(() => p.kill(), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(kill);
  return { code, stdout, stderr };
}

const responsesCalls = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));

describe.skipIf(!available)("Codex CLI 0.169 with web search", () => {
  test("a turn where the model searches: Codex gets the search item and prints the answer from the results", async () => {
    const before = responsesCalls().length;
    const r = await codexExec(`[[fake:web_answer]] ${QUERY}`);
    expect(r.code).toBe(0);
    const hits = fakeSearchHits(QUERY);
    const events = r.stdout.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l));
    const items = events.filter((ev) => ev.type === "item.completed").map((ev) => ev.item);
    const search = items.find((it) => it.type === "web_search");
    expect(search?.query).toBe(QUERY);
    const answer = items.filter((it) => it.type === "agent_message").at(-1);
    expect(answer.text).toBe(`Answer from the web search: ${hits.map((h) => h.url).join(" ")}`);
    // Two upstream rounds: the model's search call, then the answer with the results.
    const rounds = responsesCalls().slice(before);
    expect(rounds).toHaveLength(2);
    const declared = (rounds[0]!.body as any).conversationState.currentMessage.userInputMessage.userInputMessageContext.tools.map((t: any) => t.toolSpecification.name);
    expect(declared).toContain("web_search");
    expect(declared).toContain("exec_command");
  }, 90_000);

  test("a turn without a search is unchanged: one upstream round, the plain answer", async () => {
    const before = responsesCalls().length;
    e.fake.enqueue(textScenario("No search needed."));
    const r = await codexExec("say hello");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No search needed.");
    expect(responsesCalls().length - before).toBe(1);
  }, 90_000);
});
