/**
 * DNS-rebinding guard: a page on evil.example that resolves to 127.0.0.1 still sends
 * `Host: evil.example`, so panel and admin routes answer only to the names the server is
 * really reached by: the bound address, the loopback names, and the names the operator adds with
 * KIRO_ALLOWED_HOSTS (e.g. the public name of a load balancer in front of several instances).
 */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];

/** The host part of a Host header ("127.0.0.1:7860" → "127.0.0.1", "[::1]:7860" → "[::1]"). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.indexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

/** The setting that adds host names, named in refusals so an operator knows what to set. */
export const ALLOWED_HOSTS_SETTING = "KIRO_ALLOWED_HOSTS";

/**
 * The names the guard accepts: loopback, the bound address, and `extra` (KIRO_ALLOWED_HOSTS,
 * already validated and lower-cased by the config schema, IPv6 addresses bracketed).
 */
export function allowedHosts(boundHost: string, extra: readonly string[] = []): Set<string> {
  const bound = boundHost.toLowerCase();
  const set = new Set(LOOPBACK);
  set.add(bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound);
  for (const h of extra) set.add(h);
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
