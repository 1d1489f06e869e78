import { createHash } from "node:crypto";

/**
 * Tool names upstream: ≤ 64 chars of [a-zA-Z0-9_-] (the official client's limit, Amazon's Q language server). Clients send
 * longer names (MCP "server__tool" names easily pass 64) and other characters, so each request
 * gets a reversible map. Matching upstream is case-insensitive (a name used in history must be declared), so two names differing
 * only in case must not share a short name either.
 */
export const MAX_TOOL_NAME = 64;
const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

export interface ToolNameMap {
  /** Upstream name for a client name (the same client name always gets the same short name). */
  toShort(original: string): string;
  /** Client name for an upstream name; unknown names are returned unchanged. */
  restore(short: string): string;
  /** short → original for every name that was changed. */
  readonly renamed: ReadonlyMap<string, string>;
}

function hex(name: string, len: number): string {
  return createHash("sha256").update(name).digest("hex").slice(0, len);
}

/** `<prefix>_<hex>` within 64 chars; the hash keeps it deterministic across turns. */
function hashed(original: string, hexLen: number): string {
  const clean = original.replace(/[^a-zA-Z0-9_-]/g, "_").replace(/^_+/, "") || "tool";
  return `${clean.slice(0, MAX_TOOL_NAME - hexLen - 1)}_${hex(original, hexLen)}`;
}

/**
 * Builds the map for every name of one request. Valid names are reserved first and kept as-is, so
 * adding an invalid tool never renames a valid one; invalid names are processed in sorted order
 * so the result does not depend on declaration order.
 */
export function buildToolNameMap(names: Iterable<string>): ToolNameMap {
  const toShort = new Map<string, string>();
  const toOriginal = new Map<string, string>();
  const renamed = new Map<string, string>();
  const taken = new Set<string>(); // lower-cased short names in use
  const unique = [...new Set(names)];

  for (const n of unique) {
    if (VALID.test(n) && !taken.has(n.toLowerCase())) {
      taken.add(n.toLowerCase());
      toShort.set(n, n);
      toOriginal.set(n, n);
    }
  }
  for (const n of unique.filter((x) => !toShort.has(x)).sort()) {
    const sanitized = n.replace(/[^a-zA-Z0-9_-]/g, "_");
    let short = sanitized.length > 0 && sanitized.length <= MAX_TOOL_NAME ? sanitized : hashed(n, 12);
    for (let hexLen = 12; taken.has(short.toLowerCase()); hexLen += 4) {
      // 12..64 hex chars; beyond that a counter (only reachable with adversarial sha256 prefixes).
      short = hexLen <= 60 ? hashed(n, hexLen) : `${hashed(n, 12).slice(0, 50)}_${hexLen}`;
    }
    taken.add(short.toLowerCase());
    toShort.set(n, short);
    toOriginal.set(short, n);
    renamed.set(short, n);
  }
  const lowerToOriginal = new Map([...toOriginal].map(([s, o]) => [s.toLowerCase(), o]));

  return {
    toShort(original) {
      const s = toShort.get(original);
      if (s === undefined) throw new Error(`tool name not in map: ${original}`);
      return s;
    },
    restore(short) {
      return toOriginal.get(short) ?? lowerToOriginal.get(short.toLowerCase()) ?? short;
    },
    renamed,
  };
}
