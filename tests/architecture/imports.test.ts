/**
 * The layering rules of docs/ARCHITECTURE.md, checked on the source itself:
 *   - src/core imports nothing outside src/core (no kiro, dialects, turn, pool, http);
 *   - src/kiro imports from src/core only the canonical types and the upstream error classes (error-table.ts)
 *     (and nothing of pool, dialects, turn, http);
 *   - a dialect folder imports only src/core, src/dialects/dialect.ts and its own folder;
 *   - no import cycles among core, kiro, dialects, turn and http.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = join(import.meta.dir, "../..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(name)) out.push(relative(ROOT, p));
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** file → the project files it imports (resolved to src/… paths; packages left out). */
function graph(): Map<string, string[]> {
  const files = new Set(sourceFiles(join(ROOT, "src")));
  const g = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const base = normalize(join(dirname(f), spec));
      const hit = [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")].find((c) => files.has(c));
      if (hit) deps.push(hit);
    }
    g.set(f, deps);
  }
  return g;
}

const G = graph();
const under = (f: string, dir: string) => f.startsWith(`src/${dir}/`);
const violations = (from: (f: string) => boolean, allowed: (dep: string, f: string) => boolean) =>
  [...G].flatMap(([f, deps]) => (from(f) ? deps.filter((d) => !allowed(d, f)).map((d) => `${f} → ${d}`) : []));

describe("import rules", () => {
  test("the checker sees the source tree", () => {
    expect(G.get("src/turn/run.ts")).toContain("src/turn/open.ts");
    expect(G.size).toBeGreaterThan(50);
  });

  test("core imports only core", () => {
    expect(violations((f) => under(f, "core"), (d) => under(d, "core"))).toEqual([]);
  });

  test("kiro imports only kiro, the canonical types and the upstream error classes", () => {
    const canonical = new Set(["src/core/canonical.ts", "src/core/error-table.ts"]);
    expect(violations((f) => under(f, "kiro"), (d) => under(d, "kiro") || canonical.has(d))).toEqual([]);
  });

  test("a dialect imports only core, the Dialect contract and its own folder", () => {
    const folder = (f: string) => f.split("/").slice(0, 3).join("/");
    const inDialect = (f: string) => under(f, "dialects") && f !== "src/dialects/dialect.ts";
    expect(violations(inDialect, (d, f) => under(d, "core") || d === "src/dialects/dialect.ts" || folder(d) === folder(f))).toEqual([]);
  });

  test("no import cycles among core, kiro, dialects, turn and http", () => {
    const layer = (f: string) => ["core", "kiro", "dialects", "turn", "http"].some((d) => under(f, d));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const d of G.get(f) ?? []) {
        if (!layer(d)) continue;
        if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].join(" → "));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of G.keys()) if (layer(f) && !state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
