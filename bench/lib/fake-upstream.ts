/**
 * The fake Kiro as bench/stream.ts runs it, in its own process (its frame encoding is not the
 * proxy's cost): the strict fake of tests/fake-kiro with --accounts social accounts (default 1;
 * tokens from benchRefreshTokens) whose refresh tokens do not rotate (the proxy and the bench both
 * refresh with them), one write per frame, and a
 * default scenario that holds a stream open (for the open-streams memory measurement).
 *
 *   bun bench/lib/fake-upstream.ts [--accounts N] --chunking frame|burst [--interval-ms N] [--timings]
 *
 * --interval-ms N (with frame chunking): N ms before each frame after the first, instead of one
 * event-loop turn (bench/stream.ts --mode realtime). --timings: keeps, per streamed chat answer,
 * when its request reached the fake and when its first chunk was handed to the response
 * (wall-clock ms, comparable between processes), served as one flat JSON array
 * [arrivedAt, firstChunkAt, …] at `timingsUrl`.
 *
 * Prints one JSON line {apiUrl, authUrl, oidcUrl, timingsUrl?} once listening. A request whose prompt names a
 * `[[fake:…]]` scenario gets it (the bench uses `[[fake:long:N]]`); any other prompt gets the held
 * stream: a few text frames, then nothing for 10 minutes unless the client goes away first.
 */
import { startFakeKiro } from "../../tests/fake-kiro/server";
import { textSteps, usageSteps } from "../../tests/fake-kiro/scenarios";
import { benchRefreshTokens } from "./stream-clients";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const chunking = arg("chunking") === "burst" ? "burst" : "frame";
/** --timings: arrivedAt, firstChunkAt of each streamed chat answer in turn, kept here until asked for. */
const times: number[] | undefined = process.argv.includes("--timings") ? [] : undefined;
const fake = await startFakeKiro({
  port: 0,
  chunking,
  frameIntervalMs: Number(arg("interval-ms") ?? 0) || undefined,
  onChatTiming: times && ((t) => void times.push(t.arrivedAt, t.firstChunkAt)),
});
// Served apart from the fake's own routes, and read once a measurement is over: nothing is sent
// to the bench while it times requests.
const control = times && Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json(times) });
for (const refreshToken of benchRefreshTokens(Number(arg("accounts") ?? 1))) fake.addAccount({ refreshToken, kind: "social", rotateRefreshToken: false });
fake.setDefaultScenario({
  name: "held open",
  steps: [...textSteps("This answer is held open by the bench to measure memory per open stream.", 5), { delayMs: 600_000 }, ...usageSteps()],
});
// The fake records every request for tests to inspect; a bench sends thousands, keep none.
setInterval(() => {
  fake.requests.length = 0;
  fake.refreshCalls.length = 0;
}, 1000);

console.log(
  JSON.stringify({
    apiUrl: fake.upstream.apiUrl,
    authUrl: fake.upstream.authUrl,
    oidcUrl: fake.upstream.oidcUrl,
    ...(control ? { timingsUrl: `http://127.0.0.1:${control.port}/` } : {}),
  }),
);
const stop = async () => {
  await fake.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
