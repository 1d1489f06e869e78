/**
 * The fake's answer helpers: plain JSON responses and typed service errors the way restJson1
 * sends them (x-amzn-errortype, __type, {message, reason}).
 */

const NS = "com.amazon.aws.codewhisperer#";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A typed service error the way restJson1 sends it: x-amzn-errortype, __type and {message, reason}. */
export function typedError(status: number, name: string, message: string, reason: string | null, headers: Record<string, string> = {}) {
  return json(status, { __type: NS + name, message, reason }, { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/${NS.slice(0, -1)}/`, ...headers });
}
