#!/usr/bin/env bun
/**
 * Compiles kiro-server into one self-contained executable (bun build --compile; why each flag: below).
 *   bun scripts/build.ts         → dist/kiro-server for this machine
 *   bun scripts/build.ts --all   → dist/kiro-server-<os>-<arch>[.exe] for every release target + dist/SHA256SUMS
 * Cross targets make Bun download the matching runtime (@oven/bun-<os>-<arch>) from the npm registry (Bun's registry
 * host is hard-coded; BUN_CONFIG_REGISTRY is ignored).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..");

export type Target = { os: "linux" | "darwin" | "windows"; arch: "x64" | "arm64" };

/** The release matrix; the Homebrew formula covers the darwin/linux entries. */
export const TARGETS: Target[] = [
  { os: "linux", arch: "x64" },
  { os: "linux", arch: "arm64" },
  { os: "darwin", arch: "x64" },
  { os: "darwin", arch: "arm64" },
  { os: "windows", arch: "x64" },
];

export const targetFileName = (t: Target) => `kiro-server-${t.os}-${t.arch}${t.os === "windows" ? ".exe" : ""}`;

export function packageVersion(root = REPO_ROOT): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The proven flag set. --bytecode needs --format=esm, otherwise import.meta.dir is frozen to the
 * build machine and the embedded migrations are not found. The two --no-compile-autoload flags stop
 * the binary from obeying a bunfig.toml (preload scripts!) or .env in whatever directory it runs from.
 * --bytecode-order when the profile exists: see BYTECODE_ORDER.
 */
export function compileArgs(opts: { outfile: string; version: string; target?: Target; bytecodeOrder?: string }): string[] {
  return [
    "build", "--compile", "--minify", "--sourcemap", "--bytecode", "--format=esm",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    ...(opts.bytecodeOrder ? [`--bytecode-order=${opts.bytecodeOrder}`] : []),
    ...(opts.target ? [`--target=bun-${opts.target.os}-${opts.target.arch}`] : []),
    "--define", `__KIRO_SERVER_VERSION__=${JSON.stringify(opts.version)}`,
    "src/index.ts", "--asset", "./migrations",
    "--outfile", opts.outfile,
  ];
}

/**
 * Profile-guided bytecode layout: which functions a run of the executable used (hashes of their
 * syntax, no source), so Bun places their bytecode together at the front of the embedded bundle and
 * the server touches fewer pages of itself. Measured with bench/memory.ts --binary: −3 MiB of
 * file-backed RSS (fresh 50.9 → 47.8 MiB, after 1,000 requests 52.4 → 49.8). Functions are matched
 * by syntax hash, so the profile keeps working as the code changes (changed or new functions go
 * after the recorded ones); it serves every --target. Recorded by running the memory bench against
 * a built executable (startup, all three dialects streaming, count_tokens, shutdown):
 *   bun bench/memory.ts --binary dist/kiro-server --server-env BUN_BYTECODE_ORDER_OUT=$PWD/scripts/kiro-server.order
 */
export const BYTECODE_ORDER_FILE = join("scripts", "kiro-server.order");

export type BuildResult = { outfile: string; bytes: number; ms: number };

/** Runs one `bun build --compile` from the repo root; throws with bun's output on failure. */
export async function buildBinary(opts: { outfile: string; target?: Target; root?: string; version?: string }): Promise<BuildResult> {
  const root = opts.root ?? REPO_ROOT;
  const outfile = resolve(root, opts.outfile);
  mkdirSync(join(outfile, ".."), { recursive: true });
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, ...compileArgs({
      outfile,
      version: opts.version ?? packageVersion(root),
      target: opts.target,
      bytecodeOrder: existsSync(join(root, BYTECODE_ORDER_FILE)) ? join(root, BYTECODE_ORDER_FILE) : undefined,
    })], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`bun build failed for ${basename(outfile)} (exit ${code}):\n${out}${err}`);
  // --sourcemap embeds the map in the binary; the side file next to it is not needed for release.
  for (const map of [`${outfile}.map`, outfile.replace(/\.exe$/, "") + ".js.map"]) rmSync(map, { force: true });
  if (!existsSync(outfile)) throw new Error(`bun build reported success but ${outfile} is missing`);
  return { outfile, bytes: statSync(outfile).size, ms };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of Bun.file(path).stream()) hash.update(chunk);
  return hash.digest("hex");
}

/** `sha256sum` format ("<hex>  <name>"), names relative to the directory, so `sha256sum -c` works inside it. */
export async function writeSha256Sums(dir: string, names: string[], outName = "SHA256SUMS"): Promise<string> {
  const lines: string[] = [];
  for (const name of names) lines.push(`${await sha256File(join(dir, name))}  ${name}`);
  const text = lines.join("\n") + "\n";
  writeFileSync(join(dir, outName), text);
  return text;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(argv: string[]): Promise<void> {
  const dist = join(REPO_ROOT, "dist");
  if (!argv.includes("--all")) {
    const r = await buildBinary({ outfile: join(dist, "kiro-server") });
    console.log(`built ${r.outfile}: ${mb(r.bytes)} in ${secs(r.ms)}`);
    return;
  }
  // Sequential on purpose: each build holds a ~110 MB runtime in memory, and the machine has 2 cores.
  const names: string[] = [];
  let total = 0;
  for (const target of TARGETS) {
    const name = targetFileName(target);
    const r = await buildBinary({ outfile: join(dist, name), target });
    total += r.ms;
    names.push(name);
    console.log(`built dist/${name.padEnd(30)} ${mb(r.bytes).padStart(10)} in ${secs(r.ms)}`);
  }
  await writeSha256Sums(dist, names);
  console.log(`wrote dist/SHA256SUMS (${names.length} files), total ${secs(total)}`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
