import { SecretBox, keyFilePathFor } from "./crypto/secret-box";
import { openDb } from "./db/client";
import { runMigrations } from "./db/migrate";
import { ResponsesStore } from "./db/responses-store";
import { verifySecretKey } from "./db/secrets-check";
import { sqliteStore } from "./db/sqlite-store";
import { selectEngine } from "./db/pg/engine";
import type { Store } from "./db/repos";
import { SettingsStore, runtimeDefaults } from "./db/settings-store";
import { ClientKeys } from "./keys/client-keys";
import { KeyLimiter } from "./keys/limiter";
import { EventBus } from "./logs/bus";
import { createLogger } from "./logs/logger";
import { LogRing } from "./logs/ring";
import { RequestLogWriter } from "./logs/request-log";
import type { AppConfig } from "./config/schema";
import type { Services } from "./services";
import { VERSION } from "./version";
import { ModelCatalog } from "./core/models";
import { InputCalibration } from "./core/usage";
import { InputTokenEstimator } from "./core/tokens/estimate";
import { TurnSummaries } from "./logs/turn-summary";
import { AccountPool } from "./pool/pool";
import { importAuthTokenEnv } from "./pool/startup";
import { upstreamSlotsFor } from "./kiro/slots";
import { StreamHttpClient } from "./kiro/stream-http";

export type BootReport = { clientKey: string; clientKeySource: "env" | "generated" | "stored"; adminTokenSource: "env" | "generated" | "stored"; keyFileCreated: boolean };

/**
 * Opens and migrates the store, proves the secret key matches it, and builds the services.
 * Pass `bus` to subscribe (e.g. the stdout logger) before anything logs.
 */
export async function bootServices(config: AppConfig, opts: { bus?: EventBus } = {}): Promise<{ services: Services; report: BootReport }> {
  const bus = opts.bus ?? new EventBus();
  const engine = selectEngine(config);
  // PostgreSQL mode keeps a private in-memory SQLite for what is still per instance (services.db).
  const db = openDb(engine.kind === "postgres" ? ":memory:" : config.dbPath);
  runMigrations(db);

  let box: SecretBox;
  let keySource: string;
  let keyFileCreated = false;
  if (config.secretKey) {
    box = await SecretBox.fromSecret(config.secretKey);
    keySource = "KIRO_SECRET_KEY";
  } else if (config.dbPath === ":memory:" || engine.kind === "postgres") {
    box = await SecretBox.fromSecret(crypto.randomUUID());
    keySource = "in-memory key";
  } else {
    const path = keyFilePathFor(config.dbPath);
    const r = await SecretBox.fromKeyFile(path);
    box = r.box;
    keyFileCreated = r.created;
    keySource = `key file ${path}`;
  }
  let store: Store;
  if (engine.kind === "postgres") {
    const { openPgStore } = await import("./db/pg/store");
    store = await openPgStore(engine.url, box, { instanceId: config.instanceId, secretKey: config.secretKey ?? "", log: createLogger(bus) });
  } else {
    store = sqliteStore(db, config.dbPath);
  }
  try {
    await verifySecretKey(store.settings, box, keySource);
  } catch (e) {
    await store.close();
    throw e;
  }

  const settings = new SettingsStore(store.settings, runtimeDefaults(config));
  const fallbackLogged = new Set<string>();
  const models = new ModelCatalog({
    fallback: config.modelFallback,
    onFallback(requested, servedBy) {
      if (fallbackLogged.has(requested) || fallbackLogged.size > 1000) return;
      fallbackLogged.add(requested);
      createLogger(bus).info(`model "${requested}" is not served by Kiro: using ${servedBy} (KIRO_MODEL_FALLBACK=strict refuses instead)`);
    },
  });
  const keys = new ClientKeys(store.keys, box);
  const client = await keys.ensureBuiltin(config.clientToken);
  let adminToken = config.adminToken;
  let adminTokenSource: BootReport["adminTokenSource"] = "env";
  if (!adminToken) {
    const s = await settings.getOrCreateSecret("admin_token", box, () => Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url"));
    adminToken = s.value;
    adminTokenSource = s.created ? "generated" : "stored";
  }

  const log = createLogger(bus);
  const slots = upstreamSlotsFor(config.maxUpstreamRequests, config.upstreamQueueMs, log);
  // A proxy only in the environment's lower-case or HTTP_PROXY spellings is one fetch honours on its
  // own: the socket client would bypass it, so fetch stays in use then.
  const envProxy = ["http_proxy", "https_proxy", "HTTP_PROXY"].some((k) => process.env[k]);
  const http = config.upstreamHttp === "socket" && !envProxy ? new StreamHttpClient() : undefined;
  const upstream = { region: config.region, apiUrl: config.apiUrl, authUrl: config.authUrl, oidcUrl: config.oidcUrl, proxy: config.proxy, slots, streamIdleMs: config.streamIdleMs, http };
  const pool = new AccountPool({ store, box, bus, log, settings, upstream });
  // The catalogue follows what the accounts serve (their stored lists first, then every poll).
  pool.onModelLists((served) => models.setServed(served));
  if (config.authToken) await importAuthTokenEnv(pool, config.authToken, log);

  const services: Services = {
    config,
    version: VERSION,
    startedAt: Date.now(),
    db,
    responses: store.responses ?? new ResponsesStore(db),
    store,
    box,
    bus,
    log,
    ring: new LogRing(bus),
    keys,
    keyLimiter: new KeyLimiter(),
    settings,
    requestLog: new RequestLogWriter(db, bus, 200, store.requestLogSink),
    upstream,
    pool,
    models,
    calibration: new InputCalibration(),
    summaries: new TurnSummaries(),
    tokens: new InputTokenEstimator(),
    adminToken,
    onShutdown: [() => pool.close(), () => http?.close()],
    onQuiet: [],
  };
  // Several instances: changes the others make reach this one's memory (PostgreSQL's change feed).
  await store.attach?.({
    accountChanged: (row) => pool.applyStored(row),
    accountRemoved: (id) => pool.removeStored(id),
    keysChanged: () => keys.reload(),
    keyTotals: (totals) => keys.applyTotals(totals),
    settingsChanged: () => settings.reload(),
    logRetentionDays: () => settings.runtime.logRetentionDays,
  });
  return { services, report: { clientKey: client.key, clientKeySource: client.source, adminTokenSource, keyFileCreated } };
}

/** Stops timers, flushes the request log and closes the database. */
export async function shutdownServices(s: Services): Promise<void> {
  for (const fn of s.onShutdown.splice(0)) {
    try { await fn(); } catch (e) { s.log.warn("shutdown step failed", { error: String(e) }); }
  }
  s.requestLog.flush();
  s.keys.flushUsage();
  try { await s.responses.flush(); } catch (e) { s.log.warn("stored responses flush at shutdown failed", { error: String(e) }); }
  try { await s.store.flush(); } catch (e) { s.log.warn("store flush at shutdown failed", { error: String(e) }); }
  await s.store.close();
  s.db.$client.close();
}
