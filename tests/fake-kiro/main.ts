/**
 * Run the fake Kiro upstream on its own (`bun tests/fake-kiro/main.ts --port 9000`), e.g. to point
 * a dev kiro-server at it (KIRO_API_URL / KIRO_AUTH_URL / KIRO_OIDC_URL = the printed URL).
 * One social account is added so a refresh works out of the box; its refresh token is printed.
 *
 *   --port N             listen port (default 9000; 0 = any free port)
 *   --refresh-token T    refresh token of the demo social account (default: a fixed 120-char token)
 *   --no-rotate          keep the demo account's refresh token stable across refreshes
 *   --per-frame          one write per frame, encoded as it is sent (a real upstream's pattern)
 *                        instead of random byte splits
 *   --burst              one write per frame, all encoded first and written back to back
 */
import { startFakeKiro } from "./server";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg("--port") ?? 9000);
// Real refresh tokens are ≥ 100 chars (importers reject shorter ones as truncated).
const refreshToken = arg("--refresh-token") ?? `aorA${"fakeKiroDemoRefreshToken".repeat(5)}`;
const chunking = process.argv.includes("--burst") ? "burst" : process.argv.includes("--per-frame") ? "frame" : "random";
const fake = await startFakeKiro({ port, chunking });
fake.addAccount({ refreshToken, kind: "social", rotateRefreshToken: !process.argv.includes("--no-rotate") });

console.log(`fake-kiro listening on ${fake.url}`);
console.log(`  KIRO_API_URL=${fake.upstream.apiUrl}`);
console.log(`  KIRO_AUTH_URL=${fake.upstream.authUrl}`);
console.log(`  KIRO_OIDC_URL=${fake.upstream.oidcUrl}`);
console.log(`  demo social refresh token: ${refreshToken}`);

const shutdown = async () => {
  await fake.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
