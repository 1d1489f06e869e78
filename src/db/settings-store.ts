import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "./client";
import { settings } from "./schema";
import type { SettingsRepo } from "./repos";
import type { SecretBox } from "../crypto/secret-box";

/** Settings a person changes at runtime from the panel (stored in the DB, not in env). */
export const runtimeSettingsSchema = z.object({
  strategy: z.enum(["balanced", "round-robin", "priority"]).default("balanced"),
  /** Base cooldown after a 429, doubled per consecutive throttle (ms). */
  cooldownBaseMs: z.number().int().min(1000).max(3_600_000).default(2000),
  cooldownMaxMs: z.number().int().min(1000).max(86_400_000).default(300_000),
  /** Consecutive failures that auto-disable an account. */
  maxConsecutiveFailures: z.number().int().min(1).max(100).default(5),
  /** Requests one account may serve at once (pacing: a request waits rather than exceed it). */
  perAccountConcurrency: z.number().int().min(1).max(64).default(2),
  /**
   * Pacing per account (defaults and why: README, "Pacing"): requests one account may start per
   * pacing window (0 = no limit), the window (a minute; shorter only to test), and the least time
   * between two requests started on one account (0 = none).
   */
  accountRpm: z.number().int().min(0).max(10_000).default(20),
  pacingWindowMs: z.number().int().min(1000).max(3_600_000).default(60_000),
  accountMinSpacingMs: z.number().int().min(0).max(600_000).default(1000),
  /**
   * How long a request waits in the first-come-first-served queue when every account that could
   * serve it is at its pacing or concurrency limit; then it is answered 429 with Retry-After
   * (0 = answer at once).
   */
  queueWaitMs: z.number().int().min(0).max(600_000).default(30_000),
  /** First cooldown after a 429 that says "suspicious activity" (abuse detection), doubled per repeat. */
  abuseCooldownMs: z.number().int().min(60_000).max(86_400_000).default(1_800_000),
  logRequestBodies: z.boolean().default(false),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
  firstTokenTimeoutMs: z.number().int().min(5000).max(600_000).default(90_000),
  /** Stored OpenAI Responses (`store` true) are kept this long for `previous_response_id` and GET. */
  responsesRetentionDays: z.number().int().min(1).max(365).default(30),
  /** Size cap of all stored Responses together (MiB); the oldest go first when it is exceeded. */
  responsesStoreMaxMb: z.number().int().min(1).max(100_000).default(512),
});
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;

const RUNTIME_KEY = "runtime_settings";

/** The start-up configuration's values for runtime settings (flags / env): defaults until a value is saved in Settings. */
export type RuntimeDefaultsSource = {
  strategy?: RuntimeSettings["strategy"];
  accountRpm?: number;
  accountMinSpacingMs?: number;
  accountConcurrency?: number;
  queueWaitMs?: number;
};

export function runtimeDefaults(c: RuntimeDefaultsSource): Partial<RuntimeSettings> {
  const out: Partial<RuntimeSettings> = {};
  if (c.strategy !== undefined) out.strategy = c.strategy;
  if (c.accountRpm !== undefined) out.accountRpm = c.accountRpm;
  if (c.accountMinSpacingMs !== undefined) out.accountMinSpacingMs = c.accountMinSpacingMs;
  if (c.accountConcurrency !== undefined) out.perAccountConcurrency = c.accountConcurrency;
  if (c.queueWaitMs !== undefined) out.queueWaitMs = c.queueWaitMs;
  return out;
}

export const RUNTIME_SETTINGS_KEY = RUNTIME_KEY;

/** The SQLite settings repository (see src/db/repos.ts for the contract). */
export class SqliteSettingsRepo implements SettingsRepo {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    return this.db.select().from(settings).where(eq(settings.key, key)).get()?.value;
  }

  put(key: string, value: string, updatedAt: number): void {
    this.db.insert(settings).values({ key, value, updatedAt }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } }).run();
  }

  async putIfAbsent(key: string, value: string, updatedAt: number): Promise<string> {
    this.db.insert(settings).values({ key, value, updatedAt }).onConflictDoNothing().run();
    return this.get(key)!;
  }
}

export class SettingsStore {
  private cached: RuntimeSettings;
  private listeners = new Set<(s: RuntimeSettings) => void>();

  constructor(private readonly repo: SettingsRepo, private readonly defaults: Partial<RuntimeSettings> = {}) {
    this.cached = this.parseStored();
  }

  private parseStored(): RuntimeSettings {
    const value = this.repo.get(RUNTIME_KEY);
    return runtimeSettingsSchema.parse({ ...this.defaults, ...(value ? safeJson(value) : {}) });
  }

  get runtime(): RuntimeSettings {
    return this.cached;
  }

  update(patch: Partial<RuntimeSettings>): RuntimeSettings {
    const next = runtimeSettingsSchema.parse({ ...this.cached, ...patch });
    this.repo.put(RUNTIME_KEY, JSON.stringify(next), Date.now());
    this.cached = next;
    for (const fn of this.listeners) fn(next);
    return next;
  }

  /** Another instance saved the settings: read them again (the store already holds the new row). */
  reload(): void {
    this.cached = this.parseStored();
    for (const fn of this.listeners) fn(this.cached);
  }

  onChange(fn: (s: RuntimeSettings) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A server-generated secret (admin token, generated client key), encrypted at rest; the first instance to store it wins. */
  async getOrCreateSecret(key: string, box: SecretBox, make: () => string): Promise<{ value: string; created: boolean }> {
    const stored = this.repo.get(key);
    if (stored !== undefined) return { value: await box.decrypt(stored), created: false };
    const value = make();
    const mine = await box.encrypt(value);
    const winner = await this.repo.putIfAbsent(key, mine, Date.now());
    return winner === mine ? { value, created: true } : { value: await box.decrypt(winner), created: false };
  }
}

function safeJson(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s);
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}
