/**
 * The layering rules of docs/ARCHITECTURE.md, checked on the source itself:
 *   - src/core imports nothing outside src/core (no kiro, dialects, turn, pool, http);
 *   - src/kiro imports from src/core only the canonical types, the upstream error classes (error-table.ts)
 *     and the poll iterators its stream decoder returns (poll.ts)
 *     (and nothing of pool, dialects, turn, http);
 *   - a dialect folder imports only src/core, src/dialects/dialect.ts and its own folder; the two on
 *     OpenAI's wire (openai, responses) also src/dialects/openai-family, which imports only src/core;
 *   - no import cycles among core, kiro, dialects, turn and http, nor anywhere else in src;
 * and the size and style rules every source file keeps:
 *   - no source file in src over 400 lines;
 *   - no `as never` cast in the route code (src/http, src/panel, src/admin);
 *   - no comment in src, tests, bench or scripts citing a document outside the repository
 *     (section signs, the names of the design notes the project started from, undefined
 *     abbreviations of peer projects); a comment states the fact or points into docs/.
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

  test("kiro imports only kiro, the canonical types, the upstream error classes and the poll iterators", () => {
    const canonical = new Set(["src/core/canonical.ts", "src/core/error-table.ts", "src/core/poll.ts"]);
    expect(violations((f) => under(f, "kiro"), (d) => under(d, "kiro") || canonical.has(d))).toEqual([]);
  });

  test("a dialect imports only core, the Dialect contract and its own folder (the OpenAI-wire dialects also their shared folder)", () => {
    const folder = (f: string) => f.split("/").slice(0, 3).join("/");
    const family = "src/dialects/openai-family";
    const openaiWire = new Set(["src/dialects/openai", "src/dialects/responses"]);
    const inDialect = (f: string) => under(f, "dialects") && f !== "src/dialects/dialect.ts";
    expect(
      violations(
        inDialect,
        (d, f) => under(d, "core") || d === "src/dialects/dialect.ts" || folder(d) === folder(f) || (folder(d) === family && openaiWire.has(folder(f))),
      ),
    ).toEqual([]);
    // The rule above keeps the shared folder to core and itself; it exists (the rule is not vacuous).
    expect([...G.keys()].some((f) => folder(f) === family)).toBe(true);
  });

  test("no import cycles among core, kiro, dialects, turn and http", () => {
    const layer = (f: string) => ["core", "kiro", "dialects", "turn", "http"].some((d) => under(f, d));
    expect(cyclesIn(layer)).toEqual([]);
  });

  test("no import cycles anywhere in src", () => {
    expect(cyclesIn(() => true)).toEqual([]);
  });
});

/** Every cycle found by a depth-first walk over the files `inScope` accepts. */
function cyclesIn(inScope: (f: string) => boolean): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const d of G.get(f) ?? []) {
      if (!inScope(d)) continue;
      if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].join(" → "));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of G.keys()) if (inScope(f) && !state.has(f)) visit(f);
  return cycles;
}

const MAX_LINES = 400;

describe("source file rules", () => {
  const src = sourceFiles(join(ROOT, "src"));

  test(`no source file in src over ${MAX_LINES} lines`, () => {
    const long = src
      .map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length - 1] as const)
      .filter(([, n]) => n > MAX_LINES)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });

  test("no `as never` in route code (src/http, src/panel, src/admin)", () => {
    const routes = src.filter((f) => ["http", "panel", "admin"].some((d) => under(f, d)));
    expect(routes.length).toBeGreaterThan(10);
    const hits = routes.flatMap((f) =>
      readFileSync(join(ROOT, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (/\bas never\b/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});

/**
 * What a comment must not cite: a section sign, the design notes the project started from (they
 * are not in the repository), or a peer project by an abbreviation nobody reading the code can
 * resolve. This file is the one place allowed to spell them, and is left out of the scan.
 */
const OUTSIDE_REFERENCE =
  /\u00a7|\/work\/shared|kiro-upstream|api-conformance|responses-api\.md|stack\.md|peers\.md|original-product-doc|\b(?:KRS2?|AIC|LSP|JW|QCLI|DENO)\b/;
const SELF = "tests/architecture/imports.test.ts";

/** Every text file of the code trees (not the fixtures' JSON, which hold recorded wire data). */
function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...codeFiles(p));
    else if (/\.(tsx?|js|mjs|sql|sh|ya?ml|toml)$/.test(name) || !name.includes(".")) out.push(p);
  }
  return out;
}

describe("comments stand alone", () => {
  test("no file in src, tests, bench, scripts or .ci cites a document outside the repository", () => {
    const files = ["src", "tests", "bench", "scripts", ".ci"].flatMap(codeFiles);
    expect(files).toContain("tests/fake-kiro/server.ts");
    const hits = files.filter((f) => f !== SELF).flatMap((f) =>
      readFileSync(join(ROOT, f), "utf8")
        .split("\n")
        .flatMap((line, i) => (OUTSIDE_REFERENCE.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  test("the pattern catches what it is meant to", () => {
    const cites = ["see \u00a76.2", "per kiro-upstream.md", "as KRS does", "(LSP rule)", "stack.md recipe", "/work/shared/docs/peers.md"];
    for (const c of cites) expect(OUTSIDE_REFERENCE.test(c)).toBe(true);
    expect(OUTSIDE_REFERENCE.test("see docs/upstream.md, Event-stream frames")).toBe(false);
  });
});
