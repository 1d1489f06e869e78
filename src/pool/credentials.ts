/**
 * Credentials and refresh: the ONLY part of the pool that holds decrypted tokens and client
 * secrets. It decrypts an account's secrets on first use, hands out KiroCredentials for one
 * request, refreshes through the shared TokenManager (single-flight per account), stores a
 * rotated refresh token before its access token is used, looks up a missing IdC profile ARN, and
 * verifies a presented refresh token for the identity part (which only learns whether it works).
 */
import type { KiroCredentials } from "../kiro/client";
import { KiroError } from "../kiro/errors";
import { refreshAccessToken, type RefreshResult } from "../kiro/auth";
import { TokenManager, type TokenAccount, type TokenManagerOptions } from "../kiro/token-manager";
import { firstActiveProfileArn, listAvailableProfiles } from "../kiro/usage";
import { fingerprintOf, type AccountPatch } from "./store";
import type { RefreshCoordinator } from "../db/repos";
import { arnOf, NO_PROFILE, type AccountTable, type Rec } from "./records";
import type { AccountInput } from "./types";

/** A failed (non-403) profile lookup is retried at most this often. */
const PROFILE_RETRY_MS = 10 * 60_000;

type Plain = { refresh?: string; access?: string; secret?: string };
type ProfileLookup = { running?: Promise<void>; triedAt?: number };
export type RefreshFn = NonNullable<TokenManagerOptions["refresh"]>;

export class Credentials {
  private readonly tokens: TokenManager;
  /** Verifies a token before it replaces a stored one (same function the TokenManager uses). */
  private readonly refreshFn: RefreshFn;
  private readonly plain = new Map<string, Plain>();
  private readonly profiles = new Map<string, ProfileLookup>();

  /** Token columns a coordinated refresh stored, per account, until persistRefresh takes them into memory. */
  private readonly coordinated = new Map<string, NonNullable<Awaited<ReturnType<RefreshCoordinator["refreshOnce"]>>["stored"]>>();

  constructor(private readonly table: AccountTable, refresh?: RefreshFn) {
    this.refreshFn = refresh ?? refreshAccessToken;
    const coordinator = table.store.refreshes;
    this.tokens = new TokenManager({ upstream: table.deps.upstream, refresh: coordinator ? this.coordinate(coordinator, this.refreshFn) : refresh, now: table.now });
  }

  /**
   * Several instances (PostgreSQL): a refresh runs once per account across the cluster, with the
   * stored refresh token, and its result is stored (compare-and-swap) before it is used; an
   * instance that finds the account refreshed by another adopts those tokens.
   */
  private coordinate(coordinator: RefreshCoordinator, refresh: RefreshFn): RefreshFn {
    return async (input, upstream, signal) => {
      const id = this.table.fingerprints.get(fingerprintOf(input.refreshToken));
      // Never an uncoordinated refresh: it could present a token another instance rotated away.
      if (!id || !this.table.has(id)) throw new KiroError("transient", "the account of this refresh token is not in the pool (removed meanwhile)");
      let raw: RefreshResult | undefined;
      const out = await coordinator.refreshOnce(id, async (refreshToken) => (raw = await refresh({ ...input, refreshToken }, upstream, signal)), this.plain.get(id)?.access);
      this.coordinated.set(id, out.stored);
      return { ...raw, accessToken: out.accessToken, refreshToken: out.refreshToken, expiresAt: out.expiresAt };
    };
  }

  /** Only this account, only when needed (or forced after a bearer-invalid answer). */
  async forAccount(rec: Rec, force: boolean, rejectedToken?: string, aheadMs?: number): Promise<KiroCredentials> {
    const acct = await this.tokenAccount(rec);
    const accessToken = rec.row.kind === "api_key" ? acct.refreshToken : await this.tokens.getAccessToken(acct, { force, rejectedToken, aheadMs });
    const creds: KiroCredentials = {
      accessToken,
      authKind: rec.row.kind,
      region: rec.row.region,
      profileArn: arnOf(rec.row),
      machineId: rec.row.machineId,
      proxy: rec.row.proxy ?? undefined,
    };
    if (rec.row.kind === "idc" && !rec.row.profileArn) {
      await this.lookUpProfile(rec, creds);
      creds.profileArn = arnOf(rec.row);
    }
    return creds;
  }

  /**
   * Refresh ahead of expiry (scheduler): only when less than `aheadMs` is left (a short-lived
   * token: only in its last quarter, so a request's fresh refresh is not repeated).
   */
  async refreshAhead(rec: Rec, aheadMs: number): Promise<void> {
    await this.forAccount(rec, false, undefined, aheadMs);
  }

  /** Refresh before a probe: forced, unless a request replaced the token we hold meanwhile (then that newer token is used). */
  async refreshCurrent(rec: Rec): Promise<KiroCredentials> {
    const current = (await this.plainOf(rec)).access;
    return this.forAccount(rec, rec.row.kind !== "api_key", current);
  }

  /** A forced refresh (panel button). API keys have nothing to refresh. */
  async refreshNow(rec: Rec): Promise<void> {
    if (rec.row.kind !== "api_key") await this.tokens.getAccessToken(await this.tokenAccount(rec), { force: true });
  }

  /**
   * Whether a presented refresh token works: one refresh with it (its result — a possibly rotated
   * successor and an access token — is what must be stored from then on). The account's stored
   * client secret is used when the input carries none. Throws the classified KiroError.
   */
  async verify(rec: Rec, input: AccountInput, token: string, proxy: string | undefined): Promise<RefreshResult> {
    const row = rec.row;
    return this.refreshFn(
      {
        kind: input.kind,
        refreshToken: token,
        clientId: input.clientId ?? row.clientId ?? undefined,
        clientSecret: input.clientSecret ?? (await this.plainOf(rec)).secret,
        authRegion: input.authRegion ?? row.authRegion ?? row.region,
        machineId: row.machineId,
        proxy,
      },
      this.table.deps.upstream,
    );
  }

  /** Whether `secret` differs from the stored client secret. */
  async secretDiffers(rec: Rec, secret: string): Promise<boolean> {
    return secret !== (await this.plainOf(rec)).secret;
  }

  /** Secrets of an account just written to the store (so the first request does not decrypt them). */
  remember(id: string, p: Plain): void {
    this.plain.set(id, p);
  }

  /** A new refresh token was stored for the account: cached tokens and refresh state start over. */
  replaced(id: string, p: { refresh: string; access?: string; secret?: string | null }): void {
    const old = this.plain.get(id);
    this.plain.set(id, { refresh: p.refresh, access: p.access, secret: p.secret === null ? old?.secret : p.secret });
    this.tokens.forget(id);
  }

  setSecret(id: string, secret: string): void {
    const p = this.plain.get(id);
    if (p) p.secret = secret;
  }

  forget(id: string): void {
    this.plain.delete(id);
    this.profiles.delete(id);
    this.tokens.forget(id);
  }

  /** A refresh that failed on the request path (the lease's failure() applies the state change). */
  emitRefreshFailure(rec: Rec, err: unknown, requestPath: boolean): void {
    const k = err instanceof KiroError ? err : new KiroError("transient", String(err));
    this.table.emit("refresh", { accountId: rec.row.id, label: rec.row.label, ok: false, cls: k.cls, reason: k.reason, requestPath });
  }

  private async plainOf(rec: Rec): Promise<{ refresh: string; access?: string; secret?: string }> {
    let p = this.plain.get(rec.row.id);
    if (!p) this.plain.set(rec.row.id, (p = {}));
    const box = this.table.deps.box;
    if (p.refresh === undefined) p.refresh = await box.decrypt(rec.row.refreshTokenEnc);
    if (p.access === undefined && rec.row.accessTokenEnc) p.access = await box.decrypt(rec.row.accessTokenEnc);
    if (p.secret === undefined && rec.row.clientSecretEnc) p.secret = await box.decrypt(rec.row.clientSecretEnc);
    return p as { refresh: string; access?: string; secret?: string };
  }

  private async tokenAccount(rec: Rec): Promise<TokenAccount> {
    const p = await this.plainOf(rec);
    const row = rec.row;
    return {
      id: row.id,
      kind: row.kind,
      refreshToken: p.refresh,
      clientId: row.clientId ?? undefined,
      clientSecret: p.secret,
      authRegion: row.authRegion ?? row.region,
      machineId: row.machineId,
      accessToken: p.access,
      expiresAt: row.accessExpiresAt ?? undefined,
      proxy: row.proxy ?? undefined,
      persist: (result) => this.persistRefresh(rec, p.refresh, result),
    };
  }

  /**
   * An IdC account imported without a profile ARN: the first ACTIVE profile from
   * ListAvailableProfiles (the chat endpoints of enterprise IdC accounts require one), stored
   * once. 403 = Builder ID (no profile): NO_PROFILE is stored so the lookup is not repeated. Any
   * other failure is retried at most every PROFILE_RETRY_MS; the request goes on without an ARN
   * meanwhile (the endpoint families that do not need one accept that).
   */
  private lookUpProfile(rec: Rec, creds: KiroCredentials): Promise<void> {
    let st = this.profiles.get(rec.row.id);
    if (!st) this.profiles.set(rec.row.id, (st = {}));
    if (st.running) return st.running;
    const now = this.table.now();
    if (st.triedAt !== undefined && now - st.triedAt < PROFILE_RETRY_MS) return Promise.resolve();
    st.triedAt = now;
    const lookup = st;
    const { log, upstream } = this.table.deps;
    lookup.running = (async () => {
      let arn: string | undefined;
      try {
        arn = firstActiveProfileArn(await listAvailableProfiles(creds, upstream)) ?? NO_PROFILE;
      } catch (err) {
        if (!(err instanceof KiroError && err.status === 403)) {
          log.warn(`profile lookup failed for account ${rec.row.label}; retrying later`, { accountId: rec.row.id, error: err instanceof KiroError ? err.cls : String(err) });
          return;
        }
        arn = NO_PROFILE;
      }
      if (!this.table.has(rec.row.id) || rec.row.profileArn) return;
      rec.row.profileArn = arn;
      this.table.store.update(rec.row.id, { profileArn: arn });
      this.table.emit("account", { accountId: rec.row.id, label: rec.row.label, state: rec.row.state, why: arn === NO_PROFILE ? "no profile (Builder ID)" : "profile ARN found", profileArn: arn === NO_PROFILE ? undefined : arn });
    })().finally(() => {
      lookup.running = undefined;
    });
    return lookup.running;
  }

  /**
   * Rotated refresh token + access token stored in one transaction BEFORE the access token is
   * used: the service invalidates the old refresh token on rotation, so losing the new one would
   * lose the account.
   */
  private async persistRefresh(rec: Rec, usedRefresh: string, result: RefreshResult): Promise<void> {
    const { box, log } = this.table.deps;
    const rotated = result.refreshToken && result.refreshToken !== usedRefresh ? result.refreshToken : undefined;
    const accessEnc = await box.encrypt(result.accessToken);
    const refreshEnc = rotated ? await box.encrypt(rotated) : undefined;
    const now = this.table.now();
    const patch: AccountPatch = { accessTokenEnc: accessEnc, accessExpiresAt: result.expiresAt, updatedAt: now };
    if (result.profileArn && (!rec.row.profileArn || rec.row.profileArn === NO_PROFILE)) patch.profileArn = result.profileArn;
    if (!this.table.has(rec.row.id)) return; // removed meanwhile
    const p = this.plain.get(rec.row.id) ?? {};
    this.plain.set(rec.row.id, p);
    const stored = this.coordinated.get(rec.row.id);
    if (stored) {
      // Already stored by the coordinated refresh: memory takes the stored columns as they are.
      this.coordinated.delete(rec.row.id);
      const oldFp = rec.row.fingerprint;
      Object.assign(rec.row, stored);
      this.table.fingerprints.set(stored.fingerprint, rec.row.id);
      this.table.fingerprints.set(oldFp, rec.row.id);
      if (rotated) p.refresh = rotated;
      if (patch.profileArn) {
        rec.row.profileArn = patch.profileArn;
        this.table.store.update(rec.row.id, { profileArn: patch.profileArn, updatedAt: rec.row.updatedAt });
      }
    } else if (rotated && refreshEnc) {
      const fp = fingerprintOf(rotated);
      const oldFp = rec.row.fingerprint;
      this.table.store.replaceToken(rec.row.id, { ...patch, refreshTokenEnc: refreshEnc, fingerprint: fp }, oldFp, now);
      Object.assign(rec.row, patch, { refreshTokenEnc: refreshEnc, fingerprint: fp });
      this.table.fingerprints.set(fp, rec.row.id);
      this.table.fingerprints.set(oldFp, rec.row.id);
      p.refresh = rotated;
    } else {
      this.table.store.update(rec.row.id, patch);
      Object.assign(rec.row, patch);
    }
    p.access = result.accessToken;
    this.table.emit("refresh", { accountId: rec.row.id, label: rec.row.label, rotated: !!rotated, fingerprint: rec.row.fingerprint, expiresAt: result.expiresAt });
    log.info(`refreshed access token of account ${rec.row.label || rec.row.id}${rotated ? " (refresh token rotated)" : ""}`, { accountId: rec.row.id, expiresAt: new Date(result.expiresAt).toISOString() });
  }
}
