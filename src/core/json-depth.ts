/**
 * Nesting limit for client JSON. JSON.parse accepts 50,000 levels in ~25 ms, but everything that
 * walks the value recursively afterwards does not: JSON.stringify of it spends ~1 s before it
 * throws "Maximum call stack size exceeded", freezing the server meanwhile. Real requests nest a
 * few levels (Claude Code's deepest tool schema: under 15), so the decoders refuse deeper bodies
 * up front, naming where, before anything recursive sees them.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * The path (as segments) of the first value nested deeper than `max` levels, or undefined.
 * Iterative, so it cannot overflow the stack itself.
 */
export function tooDeep(value: unknown, max = MAX_JSON_DEPTH): Array<string | number> | undefined {
  const stack: Array<{ v: unknown; path: Array<string | number> }> = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    if (path.length >= max) return path;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: [...path, i] });
    else for (const k in v) stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
  }
  return undefined;
}
