import { timingSafeEqual } from "node:crypto";

import type { SessionRepo, StoredSession } from "../db/repos";

/**
 * Admin sessions. The cookie carries a random id plus an HMAC of it, so a guessed or tampered id
 * is rejected before any lookup. Each session has its own CSRF token. With SQLite they live in
 * memory under a per-process key (a restart logs everyone out, which is fine for a local tool);
 * with PostgreSQL they are stored, under a key derived from KIRO_SECRET_KEY, so a session is
 * valid on every instance (src/db/pg/repos/sessions.ts).
 */
export type AdminSession = StoredSession;

export const SESSION_COOKIE = "kiro_admin";
const IDLE_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1000;

const rand = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("base64url");

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One process's sessions (SQLite mode): a map, bounded. */
class MemorySessions implements SessionRepo {
  readonly signingKey = crypto.getRandomValues(new Uint8Array(32));
  private readonly sessions = new Map<string, StoredSession>();

  get(id: string): StoredSession | undefined {
    return this.sessions.get(id);
  }

  save(s: StoredSession): void {
    this.sessions.set(s.id, s);
  }

  touch(id: string, lastSeen: number): void {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = lastSeen;
  }

  remove(id: string): void {
    this.sessions.delete(id);
  }

  sweep(now: number): void {
    for (const [id, s] of this.sessions) if (now - s.lastSeen > IDLE_MS) this.sessions.delete(id);
    // Bound memory even if something hammers the login with the right token.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

export class AdminSessions {
  private readonly repo: SessionRepo;

  constructor(private readonly now: () => number = Date.now, repo?: SessionRepo) {
    this.repo = repo ?? new MemorySessions();
  }

  private sign(id: string): string {
    return new Bun.CryptoHasher("sha256", this.repo.signingKey).update(id).digest("base64url");
  }

  /** Starts a session; returns it and the cookie value to set. */
  create(): { session: AdminSession; cookie: string } {
    if (this.repo instanceof MemorySessions) this.repo.sweep(this.now());
    const session: AdminSession = { id: rand(24), csrf: rand(24), createdAt: this.now(), lastSeen: this.now() };
    this.repo.save(session);
    return { session, cookie: `${session.id}.${this.sign(session.id)}` };
  }

  /** The live session for a cookie value, or null (missing, forged, expired, logged out). */
  get(cookie: string | undefined | null): AdminSession | null {
    if (!cookie) return null;
    const dot = cookie.indexOf(".");
    if (dot < 1) return null;
    const id = cookie.slice(0, dot);
    if (!safeEqual(cookie.slice(dot + 1), this.sign(id))) return null;
    const s = this.repo.get(id);
    if (!s) return null;
    if (this.now() - s.lastSeen > IDLE_MS) {
      this.repo.remove(id);
      return null;
    }
    this.repo.touch(id, this.now());
    return s;
  }

  destroy(id: string): void {
    this.repo.remove(id);
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

/** One session store per running app, shared by the panel and /api/tokens (the stored sessions when the store has them). */
const stores = new WeakMap<object, AdminSessions>();
export function sessionsFor(owner: { store?: { sessions?: SessionRepo } }): AdminSessions {
  let s = stores.get(owner);
  if (!s) stores.set(owner, (s = new AdminSessions(Date.now, owner.store?.sessions)));
  return s;
}
