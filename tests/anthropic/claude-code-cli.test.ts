/**
 * The real Claude Code CLI (node_modules/.bin/claude) against the real app and the fake Kiro, as a
 * new user runs it: a temporary HOME and config dir, ANTHROPIC_BASE_URL at the test server, the
 * client key as ANTHROPIC_AUTH_TOKEN, no ANTHROPIC_MODEL, non-essential traffic off (it runs
 * fully offline). The accounts' plans stop at an older Opus than Claude Code's default.
 * Three runs: a plain answer with the default model, a Bash tool loop, and WebSearch (deferred
 * behind ToolSearch in Claude Code 2.1.3xx, then searched through Kiro's MCP).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fakeSearchHits } from "../fake-kiro/mcp";
import { FAKE_MODEL_LISTS } from "../fake-kiro/models";
import { textScenario, toolScenario } from "../fake-kiro/scenarios";
import { startE2E, type E2E } from "../support/e2e";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const RUN_TIMEOUT_MS = 90_000;

let e: E2E;
let home: string;
beforeAll(async () => {
  e = await startE2E({ accounts: [{ models: [...FAKE_MODEL_LISTS.olderOpus] }] });
  await e.services.pool.checkQuota(e.accountIds[0]!);
  home = mkdtempSync(join(tmpdir(), "kiro-claude-code-"));
});
afterAll(async () => {
  await e.stop();
  rmSync(home, { recursive: true, force: true });
});

/** One `claude -p` run; resolves with its exit code and output. */
async function claude(prompt: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    ANTHROPIC_BASE_URL: e.url,
    ANTHROPIC_AUTH_TOKEN: e.clientKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
  const p = Bun.spawn([CLAUDE, "-p", prompt, ...args], { env, cwd: home, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), RUN_TIMEOUT_MS);
  try {
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    return { code: p.exitCode, out, err };
  } finally {
    clearTimeout(timer);
  }
}

const chats = () => e.fake.requests.filter((r) => r.path.endsWith("/generateAssistantResponse"));
const modelOf = (r: { body: unknown }) => (r.body as any).conversationState.currentMessage.userInputMessage.modelId;

describe("Claude Code CLI, nothing pinned", () => {
  test("a -p run with its default model succeeds on accounts whose newest Opus is 4.5", async () => {
    const before = chats().length;
    const r = await claude("Say hello to the test");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Fake Kiro says:");
    expect(r.out).toContain("Say hello to the test");
    const sent = chats().slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const c of sent) expect(["claude-opus-4.5", "claude-sonnet-4.5", "claude-haiku-4.5"]).toContain(modelOf(c));
    expect(sent.map(modelOf)).toContain("claude-opus-4.5");
  }, RUN_TIMEOUT_MS + 5_000);

  test("--allowedTools Bash: the model's command runs and its output goes back to the model", async () => {
    const before = chats().length;
    e.fake.enqueue(toolScenario([{ name: "Bash", input: { command: "echo kiro-$((6*7))", description: "Print a number" } }], { text: "Running it." }));
    e.fake.enqueue(textScenario("The command printed kiro-42."));
    const r = await claude("Run a shell command", "--allowedTools", "Bash");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("The command printed kiro-42.");
    const sent = chats().slice(before);
    expect(sent.length).toBe(2);
    // The second round carries the tool result with the command's real output, paired with the call's id.
    const second = (sent[1]!.body as any).conversationState;
    const results = second.currentMessage.userInputMessage.userInputMessageContext.toolResults;
    expect(results).toHaveLength(1);
    expect(JSON.stringify(results[0].content)).toContain("kiro-42");
    const call = second.history.at(-1).assistantResponseMessage.toolUses[0];
    expect(call.name).toBe("Bash");
    expect(results[0].toolUseId).toBe(call.toolUseId);
  }, RUN_TIMEOUT_MS + 5_000);

  test("--allowedTools WebSearch: the search runs through Kiro's MCP and its URLs reach the model and the answer", async () => {
    const query = "bun runtime release";
    const urls = fakeSearchHits(query).map((h) => h.url);
    const beforeChats = chats().length;
    const beforeAll = e.fake.requests.length;
    const r = await claude(`[[fake:web_answer]] ${query}\nUse the WebSearch tool.`, "--allowedTools", "WebSearch");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    // The search Claude Code asked for was run on the account's MCP endpoint with its query.
    const searches = e.fake.requests.slice(beforeAll).filter((x) => x.path.endsWith("/mcp") && (x.body as any)?.method === "tools/call");
    expect(searches.map((x) => (x.body as any).params.arguments.query)).toEqual([query]);
    // The main model's next round carried every URL in the WebSearch tool result…
    const sent = chats().slice(beforeChats);
    const withResults = sent.filter((c) => JSON.stringify(c.body).includes("toolResults"));
    expect(withResults.length).toBeGreaterThan(0);
    const resultRound = JSON.stringify(withResults.at(-1)!.body);
    for (const u of urls) expect(resultRound).toContain(u);
    // …and the final answer is built from them.
    expect(r.out).toContain("Answer from the web search:");
    for (const u of urls) expect(r.out).toContain(u);
  }, RUN_TIMEOUT_MS + 5_000);
});
