/**
 * A real PostgreSQL for tests: one throwaway cluster per test file (initdb in a temporary data
 * directory, loopback TCP on a free port, unix socket in the same directory), a fresh database
 * per test, everything stopped and deleted at the end.
 *
 *   const pg = usePostgres();                    // registers beforeAll/afterAll
 *   describe.skipIf(!pg.available)("…", () => {
 *     test("…", async () => { const url = await pg.newDatabase(); … });
 *   });
 *
 * Uses Debian's binaries (/usr/lib/postgresql/<version>/bin, or PG_BIN_DIR). Tests run as root in
 * CI, and PostgreSQL refuses to run as root, so the server processes run as the `postgres` user.
 * Where no PostgreSQL binary exists, `available` is false and a notice is printed once per file.
 */
import { afterAll, beforeAll } from "bun:test";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";

export type PgCluster = {
  /** Server major version directory the binaries came from, e.g. "15". */
  version: string;
  port: number;
  /** Connection URL for a database of this cluster (default: the maintenance database). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  newDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
};

/** The directory holding initdb and postgres, newest version first; null when none is installed. */
export function findPgBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(root, v, "bin"));
  }
  return candidates.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "postgres"))) ?? null;
}

/** uid/gid of the `postgres` user when running as root (PostgreSQL refuses root), else null. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("running as root but there is no `postgres` user to run PostgreSQL as");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function run(cmd: string[], who: { uid: number; gid: number } | null): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", ...(who ?? {}) });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd[0]} failed (exit ${code}):\n${out}${err}`);
}

const DIR_PREFIX = "kiro-pg-";

/**
 * Deletes clusters left behind by a test process that was killed together with its watchdog
 * (bun kills a timed-out test's child processes): only our own directories, older than ten
 * minutes, whose server is not running.
 */
function sweepStaleClusters(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < 10 * 60_000) continue;
      const pidFile = join(dir, "data", "postmaster.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : 0;
      if (pid > 0) {
        try { process.kill(pid, 0); continue; } catch { /* not running */ }
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Someone else's, or already gone.
    }
  }
}

/** initdb + postgres in a new temporary directory; resolves once it accepts connections. */
export async function startPostgres(binDir = findPgBinDir()): Promise<PgCluster> {
  if (!binDir) throw new Error("no PostgreSQL binaries found (install Debian's postgresql package)");
  const who = runAs();
  sweepStaleClusters();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  if (who) chownSync(dir, who.uid, who.gid);
  const data = join(dir, "data");
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await run([join(binDir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], who);
  } catch (e) {
    cleanupDir();
    throw e;
  }
  let lastError = "";
  // A port found free can be taken by someone else before postgres binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(
      [
        join(binDir, "postgres"), "-D", data, "-p", String(port), "-k", dir,
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=16MB",
      ],
      { stdout: "ignore", stderr: "pipe", ...(who ?? {}) },
    );
    // If the test process dies without afterAll, a watchdog stops the server and deletes the files.
    const watchdog = Bun.spawn(
      ["sh", "-c", `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${proc.pid} 2>/dev/null; do sleep 1; done; kill -QUIT ${proc.pid} 2>/dev/null; sleep 1; rm -rf '${dir}'`],
      { stdout: "ignore", stderr: "ignore" },
    );
    const base = `postgres://postgres@127.0.0.1:${port}`;
    const ready = await waitReady(base, proc);
    if (ready === true) {
      let counter = 0;
      let stopped = false;
      const admin = new SQL(`${base}/postgres`, { max: 1 });
      return {
        version: binDir.split("/").at(-2) ?? "?",
        port,
        url: (database = "postgres") => `${base}/${database}`,
        async newDatabase(prefix = "t") {
          const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${++counter}`;
          await admin.unsafe(`CREATE DATABASE "${name}"`);
          return `${base}/${name}`;
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await admin.close().catch(() => {});
          proc.kill("SIGINT"); // fast shutdown: disconnects clients, no checkpoint wait
          // A cleared timer, not Bun.sleep: a pending sleep would keep the calling process alive 10 s.
          let timer: ReturnType<typeof setTimeout> | undefined;
          const exited = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
          clearTimeout(timer);
          if (!exited) { proc.kill("SIGKILL"); await proc.exited; }
          watchdog.kill();
          await watchdog.exited;
          cleanupDir();
        },
      };
    }
    lastError = ready;
    proc.kill("SIGKILL");
    watchdog.kill();
    await Promise.all([proc.exited, watchdog.exited]);
    if (!/already in use|could not bind/i.test(ready)) break;
  }
  cleanupDir();
  throw new Error(`PostgreSQL did not start:\n${lastError}`);
}

/** true once a connection succeeds; the server's stderr when it exits first or takes over 60 s. */
async function waitReady(base: string, proc: Bun.Subprocess<"ignore", "ignore", "pipe">): Promise<true | string> {
  let exited = false;
  const stderrText = new Response(proc.stderr).text();
  void proc.exited.then(() => { exited = true; });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    const sql = new SQL(`${base}/postgres`, { max: 1, connectionTimeout: 2 });
    try {
      await sql`select 1`;
      await sql.close();
      return true;
    } catch {
      await sql.close().catch(() => {});
      // Polling a process that prints nothing when ready: wait on its exit or a short interval.
      await Promise.race([proc.exited, Bun.sleep(50)]);
    }
  }
  if (!exited) proc.kill("SIGKILL");
  return (await stderrText) || "timed out waiting for connections";
}

export type PostgresForTests = {
  /** false when no PostgreSQL binary exists (the tests using it are skipped, with a notice). */
  available: boolean;
  /** The running cluster (throws outside a test when not available). */
  cluster(): PgCluster;
  newDatabase(prefix?: string): Promise<string>;
};

/** One cluster for the calling test file: started in beforeAll, stopped and deleted in afterAll. */
export function usePostgres(): PostgresForTests {
  const binDir = findPgBinDir();
  if (!binDir) {
    console.warn(`notice: no PostgreSQL binary found (user ${userInfo().username}; looked in PG_BIN_DIR and /usr/lib/postgresql/*/bin): PostgreSQL tests are SKIPPED`);
  }
  let cluster: PgCluster | null = null;
  beforeAll(async () => {
    if (binDir) cluster = await startPostgres(binDir);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    cluster = null;
  }, 30_000);
  const get = () => {
    if (!cluster) throw new Error("PostgreSQL is not running (no binary, or used outside a test)");
    return cluster;
  };
  return { available: binDir !== null, cluster: get, newDatabase: (prefix) => get().newDatabase(prefix) };
}
