/**
 * Model catalogue for the client dialects. Model naming is canonical (every dialect lists and
 * resolves the same names), so the dialects read it here instead of importing src/kiro.
 */
export { listModels, resolveModel } from "../kiro/models";
export type { ModelInfo } from "../kiro/models";

import { listModels as allModels } from "../kiro/models";

/**
 * Which client-facing model names the pool can serve, given the upstream ids its accounts
 * reported (undefined = not known yet → every name). A name is servable when its upstream id
 * (or its legacy id) is in the set.
 */
export function servableNamePredicate(upstreamIds: Set<string> | undefined): ((name: string) => boolean) | undefined {
  if (!upstreamIds) return undefined;
  const ok = new Set<string>();
  for (const m of allModels()) {
    if (upstreamIds.has(m.kiroId) || (m.legacyId && upstreamIds.has(m.legacyId))) ok.add(m.name);
  }
  return (name) => ok.has(name);
}
