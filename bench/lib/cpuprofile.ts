/**
 * Summary of a `bun --cpu-prof` profile (e.g. from `bun bench/stream.ts --cpu-prof DIR`), counted
 * in samples rather than in time deltas: JavaScriptCore samples only while JavaScript runs, and a
 * sample after an idle gap carries the whole gap as its delta, which makes idle waits look hot.
 *
 *   bun bench/lib/cpuprofile.ts FILE.cpuprofile [--skip-s 3] [--top 40] [--match src/]
 *
 * Prints the top functions by self samples, then by inclusive samples among those whose location
 * contains --match (default "src/": the project's own code), as % of all samples after --skip-s
 * seconds (start-up excluded).
 */
import { readFileSync } from "node:fs";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = process.argv[2];
if (!file) throw new Error("usage: bun bench/lib/cpuprofile.ts FILE.cpuprofile [--skip-s 3] [--top 40] [--match src/]");
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const skipUs = Number(arg("skip-s") ?? 3) * 1e6;
const top = Number(arg("top") ?? 40);
const match = arg("match") ?? "src/";

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*\/(src|node_modules)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"}  ${url || "[native]"}${n.callFrame.lineNumber >= 0 && url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let t = 0;
let counted = 0;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i] ?? 0;
  if (t < skipUs) continue;
  counted++;
  const leaf = byId.get(p.samples[i]!)!;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
    seen.add(l);
  }
}
const pct = (n: number) => `${((n / counted) * 100).toFixed(1).padStart(5)} %`;
console.log(`${counted} samples after the first ${skipUs / 1e6} s\n\nself:`);
for (const [l, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n)}  ${l}`);
console.log(`\ninclusive, locations containing "${match}":`);
for (const [l, n] of [...inclusive].filter(([l]) => l.includes(match)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n)}  ${l}`);
