import type { ClientKey } from "../keys/client-keys";
import { presentedKey } from "../keys/client-keys";
import type { Services } from "../services";

/**
 * The client-key check every /v1 route runs. Returns the key record or null; each dialect turns
 * null into its own 401 shape (OpenAI vs Anthropic).
 */
export function authenticateClient(s: Services, request: Request): ClientKey | null {
  return s.keys.verify(presentedKey(request.headers));
}
