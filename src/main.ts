/**
 * The server and its subcommands, loaded by src/index.ts once Bun's fetch limit is settled
 * (raising it restarts the process; doing that before this module graph loads keeps it cheap).
 */
import { ConfigError, helpText, loadConfig } from "./config/load";
import { SecretKeyError } from "./crypto/secret-box";
import { bootServices, shutdownServices } from "./boot";
import { createApp } from "./app";
import { drain, listen, PortInUseError } from "./server";
import { EventBus } from "./logs/bus";
import { attachStdoutLogger } from "./logs/stdout";
import { startBackground } from "./background";
import { VERSION } from "./version";
import { formatLogLine } from "./logs/stdout";
import { ensureFetchLimit } from "./kiro/fetch-limit";
import { isPostgresUrl } from "./db/pg/url";

/** One stdout line in the configured format that bypasses the bus (and its redaction). */
function printDirect(format: "pretty" | "json", msg: string, instance?: string): void {
  process.stdout.write(formatLogLine({ kind: "log", at: Date.now(), level: "info", msg }, format, false, instance) + "\n");
}

/** Entry point: config → store → services → HTTP. Every failure is one clear line, no stack trace. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === "codex-config") return (await import("./cli/codex-config")).runCodexConfigCommand(argv.slice(1));
  if (argv.includes("migrate-store")) {
    const { runMigrateStoreCommand } = await import("./cli/migrate-store");
    return runMigrateStoreCommand(argv);
  }
  // The import subcommand's own switches are read by runImportCommand, not by the config loader.
  const { config, args } = loadConfig(argv.filter((a) => a !== "--from-kiro-ide" && a !== "--from-kiro-cli"));
  if (args.help) { console.log(helpText(VERSION)); return 0; }
  if (args.version) { console.log(VERSION); return 0; }
  if (args.rest[0] === "import") {
    const { runImportCommand } = await import("./cli/import");
    return runImportCommand(config, args.rest.slice(1), argv);
  }
  if (args.rest.length) throw new ConfigError(`unknown command "${args.rest[0]}" (see --help)`);
  // Bun's fetch limit can only be raised at process start: this may restart the process (same pid).
  const fetchLimit = await ensureFetchLimit(config.maxUpstreamRequests);

  const bus = new EventBus();
  // Several instances on one database: every line names the instance it came from.
  const instance = isPostgresUrl(config.databaseUrl) ? config.instanceId : undefined;
  attachStdoutLogger(bus, { level: config.logLevel, format: config.logFormat, instance });
  const { services, report } = await bootServices(config, { bus });
  const app = createApp(services);
  let server;
  try {
    server = listen(app, services);
  } catch (e) {
    await shutdownServices(services);
    throw e;
  }
  const base = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`;
  const log = services.log;
  log.info(`kiro-server ${VERSION} listening on ${base}`);
  if (fetchLimit.kind === "unavailable") {
    log.warn(`upstream connections limited to ${fetchLimit.limit} (Bun's fetch limit), not ${config.maxUpstreamRequests}: ${fetchLimit.why}`);
  }
  // The login URL carries the admin token: it goes to stdout only (a person starting the server,
  // or Kiro Account Manager's log view, needs it), never onto the bus, the ring or the live-log page.
  printDirect(config.logFormat, `admin panel: ${base}/login?token=${encodeURIComponent(services.adminToken)}`, instance);
  const keyFrom = { env: "from KIRO_CLIENT_TOKEN", stored: "stored in the database (shown in the admin panel)", generated: "generated now and stored" }[report.clientKeySource];
  // The generated key must be shown once so a person can use it; an env-provided one is theirs already.
  log.info(`client API key ${keyFrom} — use it as the API key with base URL ${base}/v1`);
  // The logger redacts every key-shaped string; a generated key must still be shown once, so it
  // goes straight to stdout (not to the bus, the ring buffer or the panel's live log).
  if (report.clientKeySource === "generated") printDirect(config.logFormat, `client API key: ${report.clientKey}`, instance);
  log.info(`database: ${services.store.description}; instance ${config.instanceId}`);
  if (config.databaseUrl && !isPostgresUrl(config.databaseUrl)) log.warn("DATABASE_URL is not a postgres:// URL: ignored, the SQLite file above is used");
  const pool = services.pool.summary();
  if (pool.total === 0) log.warn("no Kiro accounts yet: add one in the admin panel (Accounts), set KIRO_AUTH_TOKEN, or run `kiro-server import --from-kiro-ide`");
  else log.info(`${pool.total} Kiro account(s), ${pool.usable} usable now`);
  await startBackground(services);
  // Start-up allocates and drops a lot (migrations, route compilation, config parsing): one full
  // collection once listening returns it, lowering idle RSS by a few MiB (bench/startup.ts).
  setTimeout(() => {
    Bun.gc(true);
    // Also hand the freed heap pages back (JSC shrinks at its next idle point).
    (Bun as unknown as { shrink?: () => void }).shrink?.();
  }, 250).unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight requests (up to ${config.shutdownGraceMs} ms)`);
    const { forced } = await drain(server, config.shutdownGraceMs);
    if (forced) log.warn("grace period over: closed remaining connections");
    await shutdownServices(services);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exit(code); },
  (e) => {
    if (e instanceof ConfigError) { console.error(`kiro-server: ${e.message}`); process.exit(2); }
    if (e instanceof PortInUseError || e instanceof SecretKeyError) { console.error(`kiro-server: ${e.message}`); process.exit(1); }
    console.error(`kiro-server: failed to start: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
