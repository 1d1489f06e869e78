/**
 * Token counting for the HTTP surfaces (count_tokens, usage): re-exported here so routes and
 * dialects stay out of src/kiro, as with src/core/models.ts.
 */
export { estimateInputTokens, estimateInputTokensAsync, countTextTokens } from "../kiro/request/estimate";
