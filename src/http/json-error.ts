/** The generic JSON error shape for non-dialect routes: {"error":{"type","message"}}. */
export function jsonError(status: number, type: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { type, message } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
