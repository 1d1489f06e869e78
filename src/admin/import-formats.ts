/**
 * Panel import = the pool's import service (src/pool/import): the panel and `kiro-server import`
 * detect and parse exactly the same formats (kiro2api `KIRO_AUTH_TOKEN`, Kiro Account Manager
 * export, the Kiro IDE's kiro-auth-token.json). Kept as a module so the panel's imports stay put.
 */
export { entryName, parseImportText } from "../pool/import";
export type ImportParse = ReturnType<typeof import("../pool/import").parseImportText>;
