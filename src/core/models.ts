/**
 * Model catalogue for the client dialects. Model naming is canonical (every dialect lists and
 * resolves the same names), so the dialects read it here instead of importing src/kiro.
 */
export { listModels, resolveModel } from "../kiro/models";
export type { ModelInfo } from "../kiro/models";
