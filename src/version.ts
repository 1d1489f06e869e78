// Replaced at build time with --define; falls back to package.json when run from source.
declare const __KIRO_SERVER_VERSION__: string | undefined;
import pkg from "../package.json" with { type: "json" };

export const VERSION: string =
  typeof __KIRO_SERVER_VERSION__ === "string" ? __KIRO_SERVER_VERSION__ : pkg.version;
