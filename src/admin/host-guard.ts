/**
 * DNS-rebinding guard: a page on evil.example that resolves to 127.0.0.1 still sends
 * `Host: evil.example`, so panel and admin routes answer only to the names the server is
 * really reached by (the bound address and the loopback names).
 */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];

/** The host part of a Host header ("127.0.0.1:7860" → "127.0.0.1", "[::1]:7860" → "[::1]"). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.indexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

export function allowedHosts(boundHost: string): Set<string> {
  const bound = boundHost.toLowerCase();
  const set = new Set(LOOPBACK);
  set.add(bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound);
  return set;
}

export function isAllowedHost(header: string | null, allowed: Set<string>): boolean {
  if (!header) return false;
  return allowed.has(hostName(header));
}

/** An Origin header, when a browser sends one, must name an allowed host too (CSRF defence in depth). */
export function isAllowedOrigin(origin: string | null, allowed: Set<string>): boolean {
  if (!origin) return true;
  try {
    return allowed.has(hostName(new URL(origin).host));
  } catch {
    return false;
  }
}
