/**
 * The generic JSON error shape for routes outside the dialects (unknown paths, unexpected
 * failures): {"error":{"message","type","param","code"}} — OpenAI's shape, which Anthropic-style
 * readers also understand through error.type and error.message.
 */
export function jsonError(status: number, type: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { message, type, param: null, code: null } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
