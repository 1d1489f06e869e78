/**
 * Parent side of server-child.ts: spawn, wait for "ready", send commands, read answers, stop.
 */
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

export type ServerChild = {
  url: string;
  pid: number;
  /** Sends a command and resolves with the first stdout line starting with `answerPrefix`. */
  ask(command: string, answerPrefix: string): Promise<string>;
  rss(opts?: { gc?: boolean }): Promise<number>;
  accounts(): Promise<Array<{ label: string; requests: number; errors: number; state: string }>>;
  /** Since the previous call: longest event-loop gap (wall ms) and most CPU ms spent inside one gap. */
  lag(): Promise<{ wallMs: number; cpuMs: number }>;
  /** stderr and stdout seen so far (for failure messages). */
  output(): string;
  readonly exited: Promise<number>;
  stop(): Promise<void>;
};

/**
 * No pacing (the pool's defaults start one request per account per second and 20 a minute, two at
 * once): the suite sends bursts on purpose and measures the server, not the pacing queue.
 */
export const UNPACED = { KIRO_ACCOUNT_RPM: "0", KIRO_ACCOUNT_MIN_SPACING_MS: "0", KIRO_ACCOUNT_CONCURRENCY: "64" };

export async function startServerChild(env: Record<string, string>): Promise<ServerChild> {
  const dir = mkdtempSync(join(tmpdir(), "kiro-rel-"));
  const proc = Bun.spawn(["bun", join(import.meta.dir, "server-child.ts")], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", KIRO_KV_PATH: join(dir, "kiro.db"), LOG_LEVEL: "error", ...UNPACED, ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let seen = "";
  let errText = "";
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  const lines: string[] = [];
  void (async () => {
    for await (const chunk of proc.stderr) errText += new TextDecoder().decode(chunk);
  })();
  void (async () => {
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += new TextDecoder().decode(chunk);
      seen += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const i = waiters.findIndex((w) => line.startsWith(w.prefix));
        if (i >= 0) waiters.splice(i, 1)[0]!.resolve(line);
        else lines.push(line);
      }
    }
  })();
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return resolve(lines.splice(i, 1)[0]!);
      waiters.push({ prefix, resolve });
      void proc.exited.then((code) => reject(new Error(`server child exited (${code}) before "${prefix}": ${errText.slice(-2000)}`)));
    });
  const ready = await next("ready ");
  const port = Number(ready.split(" ")[1]);
  const ask = async (command: string, prefix: string) => {
    const answer = next(prefix);
    proc.stdin.write(command + "\n");
    proc.stdin.flush();
    return answer;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    ask,
    rss: async (opts = {}) => Number((await ask(opts.gc ? "gc" : "rss", "rss ")).split(" ")[1]),
    lag: async () => {
      const [, wall, cpu] = (await ask("lag", "lag ")).split(" ");
      return { wallMs: Number(wall), cpuMs: Number(cpu) };
    },
    accounts: async () => JSON.parse((await ask("accounts", "accounts ")).slice("accounts ".length)),
    output: () => seen + errText,
    exited: proc.exited,
    stop: async () => {
      proc.stdin.end();
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
