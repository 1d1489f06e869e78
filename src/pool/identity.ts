/**
 * Identity, upsert and de-duplication: every way an account enters or changes (CLI import,
 * KIRO_AUTH_TOKEN, panel, the Kiro IDE's token file) ends here. The same account is recognised by
 * any refresh-token fingerprint it ever had, then by userId, then by email when the userIds do
 * not contradict; an unseen token for a known identity replaces the stored one only once it has
 * been verified (the credentials part refreshes it), so a stale copy never overwrites a working
 * token.
 */
import type { KiroCredentials } from "../kiro/client";
import { KiroError } from "../kiro/errors";
import type { RefreshResult } from "../kiro/auth";
import { getUsageLimits, type QuotaSnapshot } from "../kiro/usage";
import { machineIdFor } from "../kiro/request/headers";
import { accountIdFor, fingerprintOf, type AccountPatch, type AccountRow } from "./store";
import { arnOf, type AccountTable, type Rec } from "./records";
import type { Credentials } from "./credentials";
import type { Quotas } from "./quota";
import type { AccountInput, UpsertResult } from "./types";

/**
 * Refresh tokens shorter than this, or containing "...", are truncated copies (real ones are
 * several hundred characters; some tools shorten them for display, and a shortened copy can
 * never refresh).
 */
export const MIN_REFRESH_TOKEN_LENGTH = 100;
/** Reasons meaning the stored refresh token can never work again (a new token may replace it unverified). */
const DEAD_TOKEN_REASONS = ["refresh token rejected", "re-login required"];

type Match = { rec: Rec; byAlias: boolean; byIdentity: boolean };
export type AdoptOutcome = "adopted" | "added" | "unchanged" | "retry" | "skipped";

export function isProxyUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && !!u.hostname;
  } catch {
    return false;
  }
}

export class Identity {
  constructor(private readonly table: AccountTable, private readonly creds: Credentials, private readonly quotas: Quotas) {}

  async upsert(input: AccountInput): Promise<UpsertResult> {
    const token = typeof input.refreshToken === "string" ? input.refreshToken.trim() : "";
    if (!token) return { id: "", outcome: "skipped", why: "no refresh token" };
    if (input.kind !== "api_key" && (token.length < MIN_REFRESH_TOKEN_LENGTH || token.includes("...") || token.includes("…"))) {
      return { id: "", outcome: "skipped", why: "refresh token looks truncated (too short or contains '...')" };
    }
    if (input.kind === "idc" && (!input.clientId || !input.clientSecret)) {
      return { id: "", outcome: "skipped", why: "IdC account without clientId/clientSecret cannot refresh (import the client registration too)" };
    }
    if (input.proxy !== undefined && !isProxyUrl(input.proxy)) {
      // Sending direct instead would expose the address the operator meant to hide.
      return { id: "", outcome: "skipped", why: "proxy is not an http(s) URL (e.g. http://user:pass@host:port)" };
    }
    const fp = fingerprintOf(token);
    const known = this.findExisting(fp, input);
    if (known) return this.updateExisting(known.rec, input, token, fp, known);

    const now = this.table.now();
    const [refreshEnc, secretEnc, accessEnc] = await Promise.all([
      this.table.deps.box.encrypt(token),
      input.clientSecret ? this.table.deps.box.encrypt(input.clientSecret) : undefined,
      input.accessToken && input.expiresAt && input.expiresAt > now ? this.table.deps.box.encrypt(input.accessToken) : undefined,
    ]);
    // Another upsert of the same token may have finished while we encrypted.
    const raced = this.findExisting(fp, input);
    if (raced) return this.updateExisting(raced.rec, input, token, fp, raced);
    const id = accountIdFor(fp);
    const row: AccountRow = {
      id,
      kind: input.kind,
      label: input.label?.trim() || input.email || `${input.kind}-${fp.slice(0, 6)}`,
      email: input.email ?? null,
      userId: input.userId ?? null,
      region: input.region ?? this.table.deps.upstream.region,
      authRegion: input.authRegion ?? input.region ?? null,
      profileArn: input.profileArn ?? null,
      machineId: machineIdFor(input.machineId ?? fp),
      fingerprint: fp,
      refreshTokenEnc: refreshEnc,
      accessTokenEnc: accessEnc ?? null,
      accessExpiresAt: accessEnc ? input.expiresAt! : null,
      clientId: input.clientId ?? null,
      clientSecretEnc: secretEnc ?? null,
      proxy: input.proxy ?? null,
      state: input.disabled ? "disabled" : "active",
      stateReason: input.disabled ? "disabled in the imported source" : null,
      stateUntil: null,
      priority: input.priority ?? 0,
      requests: 0,
      errors: 0,
      consecutiveFailures: 0,
      lastUsedAt: null,
      lastError: null,
      lastErrorAt: null,
      quotaJson: null,
      quotaFetchedAt: null,
      modelsJson: null,
      modelsFetchedAt: null,
      source: input.source ?? "panel",
      sourcePath: input.sourcePath ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.table.store.insert(row);
    this.table.fingerprints.set(fp, id);
    this.table.add(row);
    this.creds.remember(id, { refresh: token, secret: input.clientSecret, access: accessEnc ? input.accessToken : undefined });
    this.table.emit("import", { accountId: id, label: row.label, outcome: "added", source: row.source, fingerprint: fp });
    this.table.deps.log.info(`account added: ${row.label} (${row.kind}, from ${row.source})`, { accountId: id, fingerprint: fp });
    return { id, outcome: "added" };
  }

  /**
   * The stored account this input belongs to: by token fingerprint (current or an alias from an
   * earlier rotation), else by identity — same userId, or same email within the same kind unless
   * both userIds are known and differ (two people can share a mailbox alias; merging them would
   * throw one person's token away). O(n) on the import path only.
   */
  private findExisting(fp: string, input: AccountInput): Match | undefined {
    const id = this.table.fingerprints.get(fp);
    const rec = id ? this.table.get(id) : undefined;
    if (rec) return { rec, byAlias: rec.row.fingerprint !== fp, byIdentity: false };
    if (input.userId) {
      for (const r of this.table.values()) if (r.row.userId === input.userId) return { rec: r, byAlias: false, byIdentity: true };
    }
    if (input.email) {
      for (const r of this.table.values()) {
        if (r.row.email !== input.email || r.row.kind !== input.kind) continue;
        if (input.userId && r.row.userId && r.row.userId !== input.userId) continue;
        return { rec: r, byAlias: false, byIdentity: true };
      }
    }
    return undefined;
  }

  /**
   * Whether an unseen token matched by identity may replace the stored one: yes when the stored
   * token is dead; else only when the new one refreshes (then its rotated successor and access
   * token are what we store). Returns the token to store, or why not.
   */
  private async verifyReplacement(rec: Rec, input: AccountInput, token: string): Promise<{ token: string; access?: RefreshResult } | { why: string }> {
    const row = rec.row;
    if (row.state === "disabled" && DEAD_TOKEN_REASONS.some((r) => row.stateReason?.startsWith(r))) return { token };
    try {
      const result = await this.creds.verify(rec, input, token, input.proxy ?? row.proxy ?? undefined);
      return { token: result.refreshToken ?? token, access: result };
    } catch (err) {
      const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
      return { why: `a different token for ${row.email ?? row.userId ?? row.label} did not refresh (${k.cls}: ${k.upstreamMessage}); the stored token is kept` };
    }
  }

  private async updateExisting(rec: Rec, input: AccountInput, presented: string, presentedFp: string, match: Match): Promise<UpsertResult> {
    const row = rec.row;
    const { byAlias } = match;
    let token = presented;
    let fp = presentedFp;
    // A token this account has rotated away from is an old copy: never go back to it.
    const newToken = fp !== row.fingerprint && !byAlias && this.table.fingerprints.get(fp) !== row.id;
    let verified: RefreshResult | undefined;
    if (newToken && match.byIdentity) {
      const v = await this.verifyReplacement(rec, input, presented);
      if ("why" in v) return { id: row.id, outcome: "skipped", why: v.why };
      token = v.token;
      fp = fingerprintOf(token);
      verified = v.access;
    }
    const patch: AccountPatch = {};
    const set = <K extends keyof AccountRow>(k: K, v: AccountRow[K] | undefined) => {
      if (v !== undefined && v !== null && v !== "" && row[k] !== v) (patch as Record<string, unknown>)[k] = v;
    };
    if (input.label?.trim()) set("label", input.label.trim());
    set("email", input.email);
    set("userId", input.userId);
    set("profileArn", input.profileArn ?? verified?.profileArn);
    set("authRegion", input.authRegion);
    set("clientId", input.clientId);
    set("sourcePath", input.sourcePath);
    set("proxy", input.proxy);
    let secretChanged = false;
    if (input.clientSecret && (await this.creds.secretDiffers(rec, input.clientSecret))) {
      patch.clientSecretEnc = await this.table.deps.box.encrypt(input.clientSecret);
      secretChanged = true;
    }
    if (!Object.keys(patch).length && !newToken) {
      return { id: row.id, outcome: "skipped", why: byAlias ? "older copy of a token this account has since rotated" : "already present, unchanged" };
    }
    const now = this.table.now();
    patch.updatedAt = now;
    if (newToken) {
      const refreshEnc = await this.table.deps.box.encrypt(token);
      const accessEnc = verified ? await this.table.deps.box.encrypt(verified.accessToken) : undefined;
      if (!this.table.has(row.id)) return { id: row.id, outcome: "skipped", why: "account was removed meanwhile" };
      const oldFp = row.fingerprint;
      Object.assign(patch, { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: accessEnc ?? null, accessExpiresAt: verified && accessEnc ? verified.expiresAt : null });
      this.table.store.replaceToken(row.id, patch as AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFp, now);
      // The presented token was rotated by the verification: remember it as an old copy too.
      if (presentedFp !== fp) this.table.store.addAlias(presentedFp, row.id, now);
      Object.assign(row, patch);
      this.table.fingerprints.set(fp, row.id);
      this.table.fingerprints.set(presentedFp, row.id);
      this.creds.replaced(row.id, { refresh: token, access: verified?.accessToken, secret: secretChanged ? input.clientSecret : null });
      rec.unsupported = undefined;
    } else {
      this.table.store.update(row.id, patch);
      Object.assign(row, patch);
      if (secretChanged) this.creds.setSecret(row.id, input.clientSecret!);
    }
    // A fresh login revives an account disabled for a dead token or registration.
    if (row.state === "disabled" && (newToken || secretChanged) && !input.disabled) this.table.setState(rec, "active", null, null, "re-imported");
    this.table.emit("import", { accountId: row.id, label: row.label, outcome: "updated", source: input.source, fingerprint: row.fingerprint, newToken, verified: !!verified });
    return { id: row.id, outcome: "updated", why: newToken ? (verified ? "new refresh token for a known account (verified)" : "new refresh token for a known account") : "details updated" };
  }

  /**
   * A token the Kiro IDE wrote into the file account `id` was imported from. The IDE may have
   * rotated our token (same person: adopt it) — or someone else logged in to the IDE (different
   * person: add them as a new account and leave the old one alone). Identity comes from
   * getUsageLimits with the new token (userId, else email) against the account's known identity.
   *   adopted    the account now uses the token
   *   added      a different person: upserted as another account (outcome of upsert)
   *   unchanged  the token is ours already, or an old copy
   *   retry      could not tell yet (network); ask again on the next poll
   *   skipped    the token does not work
   */
  async adoptRotatedToken(id: string, input: AccountInput): Promise<AdoptOutcome> {
    const rec = this.table.get(id);
    if (!rec) return "skipped";
    let token = input.refreshToken;
    const presentedFp = fingerprintOf(token);
    if (this.table.fingerprints.has(presentedFp)) return "unchanged"; // ours already, or an old copy
    const row = rec.row;
    const now = this.table.now();
    // An access token for the new login: the file's own while valid, else one refresh (which may
    // rotate the token: from then on only our copy works, so it must end up stored either way).
    let access = input.accessToken && input.expiresAt && input.expiresAt > now + 60_000 ? { accessToken: input.accessToken, expiresAt: input.expiresAt } : undefined;
    let refreshed = false;
    let profileArn = input.profileArn;
    if (!access) {
      try {
        const r = await this.creds.verify(rec, input, token, row.proxy ?? undefined);
        token = r.refreshToken ?? token;
        access = { accessToken: r.accessToken, expiresAt: r.expiresAt };
        profileArn ??= r.profileArn;
        refreshed = true;
      } catch (err) {
        const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
        this.table.deps.log.warn(`Kiro IDE file of account ${row.label}: the new token does not refresh (${k.cls})`, { accountId: id });
        return k.cls === "dead_refresh_token" ? "skipped" : "retry";
      }
    }
    const credsOf = (accessToken: string): KiroCredentials => ({
      accessToken, authKind: input.kind, region: input.region ?? row.region, profileArn: profileArn ?? (input.kind === row.kind ? arnOf(row) : undefined),
      machineId: row.machineId, proxy: row.proxy ?? undefined,
    });
    let theirs: QuotaSnapshot | undefined;
    try {
      theirs = await getUsageLimits(credsOf(access.accessToken), this.table.deps.upstream);
    } catch (err) {
      this.table.deps.log.warn(`Kiro IDE file of account ${row.label}: cannot tell who the new login is (${err instanceof KiroError ? err.cls : String(err)})`, { accountId: id });
      if (!refreshed) return "retry";
    }
    const newInput: AccountInput = {
      ...input, refreshToken: token, accessToken: access.accessToken, expiresAt: access.expiresAt, profileArn,
      userId: theirs?.userId ?? input.userId, email: theirs?.email ?? input.email, label: theirs?.email ?? input.label,
    };
    // We rotated it but cannot identify it: a separate account keeps the only working copy safe.
    if (!theirs) return this.addFromIde(rec, newInput);
    if (!row.userId && !row.email) await this.quotas.learnIdentity(rec);
    if (this.samePerson(row, theirs) === false) return this.addFromIde(rec, newInput);

    const refreshEnc = await this.table.deps.box.encrypt(token);
    const accessEnc = await this.table.deps.box.encrypt(access.accessToken);
    const fp = fingerprintOf(token);
    if (!this.table.has(id) || this.table.fingerprints.has(fp)) return "unchanged";
    const oldFp = row.fingerprint;
    const patch: AccountPatch = { refreshTokenEnc: refreshEnc, fingerprint: fp, accessTokenEnc: accessEnc, accessExpiresAt: access.expiresAt, updatedAt: this.table.now() };
    if (profileArn && !arnOf(row)) patch.profileArn = profileArn;
    this.table.store.replaceToken(id, patch as AccountPatch & { fingerprint: string; refreshTokenEnc: string }, oldFp, now);
    if (presentedFp !== fp) this.table.store.addAlias(presentedFp, id, now);
    Object.assign(row, patch);
    this.table.fingerprints.set(fp, id);
    this.table.fingerprints.set(presentedFp, id);
    this.creds.replaced(id, { refresh: token, access: access.accessToken, secret: null });
    this.quotas.apply(rec, theirs);
    this.table.emit("refresh", { accountId: id, label: row.label, rotated: true, adopted: true, fingerprint: fp });
    this.table.deps.log.info(`account ${row.label}: adopted a refresh token rotated by the Kiro IDE`, { accountId: id });
    if (row.state === "disabled" && DEAD_TOKEN_REASONS.some((r) => row.stateReason?.startsWith(r))) this.table.setState(rec, "active", null, null, "token adopted");
    return "adopted";
  }

  /** true / false when the identities can be compared (userId first, else email), undefined when not. */
  private samePerson(row: AccountRow, q: Pick<QuotaSnapshot, "userId" | "email">): boolean | undefined {
    if (row.userId && q.userId) return row.userId === q.userId;
    if (row.email && q.email) return row.email.toLowerCase() === q.email.toLowerCase();
    return undefined;
  }

  private async addFromIde(old: Rec, input: AccountInput): Promise<"added" | "skipped"> {
    const r = await this.upsert(input);
    this.table.deps.log.info(`Kiro IDE login changed to another person (${input.email ?? input.userId ?? "unknown"}): ${r.outcome} as a separate account; ${old.row.label} keeps its token`, { accountId: r.id, previous: old.row.id });
    return r.outcome === "skipped" ? "skipped" : "added";
  }
}
