import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/**
 * The panel's shape: one folder per page (routes + view), shared pieces in shared/, imports one
 * way only, and every view inside what `xss-scan` (CI) checks: it scans the .tsx files of tsconfig.json.
 */
const root = resolve(import.meta.dir, "..", "..");
const panel = join(root, "src", "panel");
const files = [...new Bun.Glob("**/*.{ts,tsx}").scanSync(panel)].map((f) => join(panel, f));

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)[^"';]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!)
    .filter((p) => p.startsWith(".")).map((p) => resolve(dirname(file), p));
}
const inside = (dir: string, path: string) => !relative(dir, path).startsWith("..");

describe("panel layout", () => {
  test("xss-scan sees every panel view (all .tsx files are in tsconfig.json)", () => {
    const { config } = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
    const scanned = new Set(parsed.fileNames.map((f) => resolve(f)));
    const views = files.filter((f) => f.endsWith(".tsx"));
    expect(views.length).toBeGreaterThan(15);
    expect(views.filter((f) => !scanned.has(f))).toEqual([]);
  });

  test("each page folder holds its routes and its view; pages never import each other", () => {
    const pages = ["auth", "dashboard", "accounts", "usage", "logs", "requests", "keys", "settings"];
    for (const p of pages) {
      expect(files).toContain(join(panel, p, "routes.tsx"));
      expect(files).toContain(join(panel, p, "page.tsx"));
    }
    const crossings: string[] = [];
    for (const f of files) {
      const own = pages.find((p) => inside(join(panel, p), f));
      for (const target of imports(f)) {
        const other = own && pages.find((p) => p !== own && inside(join(panel, p), target));
        if (other) crossings.push(`${relative(root, f)} → ${relative(root, target)}`);
        // shared/ is below the pages: it never reaches up into a page folder or the route wiring.
        if (inside(join(panel, "shared"), f) && !inside(join(panel, "shared"), target) && inside(panel, target)) crossings.push(`${relative(root, f)} → ${relative(root, target)}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  test("admin authentication (src/admin) never imports the panel", () => {
    const admin = join(root, "src", "admin");
    const adminFiles = [...new Bun.Glob("**/*.ts").scanSync(admin)].map((f) => join(admin, f));
    expect(adminFiles.length).toBeGreaterThan(0);
    expect(adminFiles.flatMap(imports).filter((t) => inside(panel, t))).toEqual([]);
  });

  test("no module but src/logs/request-log.ts writes SQL text against request_log (the rest goes through drizzle)", () => {
    const src = [...new Bun.Glob("src/**/*.{ts,tsx}").scanSync(root)].filter((f) => f !== "src/logs/request-log.ts");
    expect(src.filter((f) => /\b(FROM|INTO|UPDATE|JOIN)\s+"?request_log\b/.test(readFileSync(join(root, f), "utf8")))).toEqual([]);
  });
});
