import type { AppConfig } from "../config/schema";
import { ConfigError } from "../config/load";

// Filled in by the account-pool work (issue 4): imports accounts from files, the Kiro IDE and kiro-cli.
export async function runImportCommand(_config: AppConfig, _rest: string[], _argv: string[]): Promise<number> {
  throw new ConfigError("import is not available in this build yet");
}
