import { timingSafeEqual } from "node:crypto";

/**
 * Admin sessions, kept in memory (a restart logs everyone out, which is fine for a local tool).
 * The cookie carries a random id plus an HMAC of it under a per-process key, so a guessed or
 * tampered id is rejected before any lookup. Each session has its own CSRF token.
 */
export type AdminSession = { id: string; csrf: string; createdAt: number; lastSeen: number };

export const SESSION_COOKIE = "kiro_admin";
const IDLE_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1000;

const rand = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("base64url");

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AdminSessions {
  private readonly key = crypto.getRandomValues(new Uint8Array(32));
  private readonly sessions = new Map<string, AdminSession>();

  constructor(private readonly now: () => number = Date.now) {}

  private sign(id: string): string {
    return new Bun.CryptoHasher("sha256", this.key).update(id).digest("base64url");
  }

  /** Starts a session; returns it and the cookie value to set. */
  create(): { session: AdminSession; cookie: string } {
    this.sweep();
    const session: AdminSession = { id: rand(24), csrf: rand(24), createdAt: this.now(), lastSeen: this.now() };
    this.sessions.set(session.id, session);
    return { session, cookie: `${session.id}.${this.sign(session.id)}` };
  }

  /** The live session for a cookie value, or null (missing, forged, expired, logged out). */
  get(cookie: string | undefined | null): AdminSession | null {
    if (!cookie) return null;
    const dot = cookie.indexOf(".");
    if (dot < 1) return null;
    const id = cookie.slice(0, dot);
    if (!safeEqual(cookie.slice(dot + 1), this.sign(id))) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (this.now() - s.lastSeen > IDLE_MS) {
      this.sessions.delete(id);
      return null;
    }
    s.lastSeen = this.now();
    return s;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now - s.lastSeen > IDLE_MS) this.sessions.delete(id);
    // Bound memory even if something hammers the login with the right token.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${IDLE_MS / 1000}`;
}

export const clearedSessionCookie = () => `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** One session store per running app, shared by the panel and /api/tokens. */
const stores = new WeakMap<object, AdminSessions>();
export function sessionsFor(owner: object): AdminSessions {
  let s = stores.get(owner);
  if (!s) stores.set(owner, (s = new AdminSessions()));
  return s;
}
