/**
 * `kiro-server import FILE…`, `--from-kiro-ide`, `--from-kiro-cli`: imports accounts into the
 * store and prints one line per entry (added / updated / skipped + why). Formats are detected:
 * Kiro IDE cache JSON, kiro-cli SQLite, Kiro Account Manager export, kiro2api JSON.
 * Default paths can be overridden with KIRO_IDE_TOKEN_PATH / KIRO_CLI_DB_PATH (tests).
 */
import type { AppConfig } from "../config/schema";
import { ConfigError } from "../config/load";
import { bootServices, shutdownServices } from "../boot";
import { formatLine, importEntries, parseImportFile, summarize, type ImportReportLine } from "../pool/import";
import { defaultKiroIdePath, parseKiroIdeCache } from "../pool/import/kiro-ide";
import { defaultKiroCliPath, parseKiroCliDb } from "../pool/import/kiro-cli";
import type { ImportEntry } from "../pool/import/normalize";

export const IMPORT_FLAGS = ["--from-kiro-ide", "--from-kiro-cli"] as const;

export const IMPORT_HELP = `usage: kiro-server import [FILE…] [--from-kiro-ide] [--from-kiro-cli]
  FILE             Kiro IDE kiro-auth-token.json, kiro-cli data.sqlite3, Kiro Account Manager export or kiro2api JSON
  --from-kiro-ide  ${defaultKiroIdePath()} (KIRO_IDE_TOKEN_PATH overrides)
  --from-kiro-cli  ${defaultKiroCliPath()} (KIRO_CLI_DB_PATH overrides)`;

export async function runImportCommand(config: AppConfig, rest: string[], argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const words = new Set([...argv, ...rest]);
  const files = rest.filter((a) => !a.startsWith("--"));
  const fromIde = words.has("--from-kiro-ide");
  const fromCli = words.has("--from-kiro-cli");
  if (!files.length && !fromIde && !fromCli) throw new ConfigError(`import needs a file or --from-kiro-ide / --from-kiro-cli\n${IMPORT_HELP}`);

  const batches: Array<{ title: string; entries: ImportEntry[] }> = [];
  for (const f of files) {
    const { format, entries } = parseImportFile(f);
    batches.push({ title: `${f}${format ? ` (${format})` : ""}`, entries });
  }
  if (fromIde) batches.push({ title: `Kiro IDE ${defaultKiroIdePath()}`, entries: parseKiroIdeCache(defaultKiroIdePath()) });
  if (fromCli) batches.push({ title: `kiro-cli ${defaultKiroCliPath()}`, entries: parseKiroCliDb(defaultKiroCliPath()) });

  const { services } = await bootServices(config);
  const all: ImportReportLine[] = [];
  try {
    for (const b of batches) {
      out(b.title);
      const lines = await importEntries(services.pool, b.entries);
      for (const l of lines) out(`  ${formatLine(l)}`);
      all.push(...lines);
    }
  } finally {
    await shutdownServices(services);
  }
  out(`import: ${summarize(all)} — database ${config.dbPath}`);
  const harmless = (l: ImportReportLine) => l.outcome !== "skipped" || /^(already present|older copy)/.test(l.why ?? "");
  return all.some(harmless) ? 0 : 1;
}
