import { homedir } from "node:os";
import { join } from "node:path";

/** Per-OS user data directory, the way each OS expects applications to keep data. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (process.platform === "darwin") return join(home, "Library", "Application Support", "kiro-server");
  if (process.platform === "win32") return join(env.APPDATA ?? join(home, "AppData", "Roaming"), "kiro-server");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "kiro-server");
}

export function defaultDbPath(env: Record<string, string | undefined> = process.env): string {
  return join(defaultDataDir(env), "kiro-server.db");
}
