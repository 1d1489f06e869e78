/**
 * Times GET <url>/health every 20 ms from its own process, so what it measures is the server and
 * the machine, not a test process that is also sending fuzzed requests and serving the fake
 * upstream. Prints "ready" after the first answer; on SIGTERM prints one JSON line
 * {times: ms[], statuses: number[]} and exits.
 *
 *   bun tests/reliability/health-probe.ts http://127.0.0.1:PORT
 */
const url = `${process.argv[2]}/health`;
const times: number[] = [];
const statuses: number[] = [];
let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});
let told = false;
while (!stopping) {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  times.push(performance.now() - t0);
  statuses.push(res.status);
  if (!told) {
    told = true;
    console.log("ready");
  }
  await Bun.sleep(20);
}
console.log(JSON.stringify({ times, statuses }));
process.exit(0);

export {};
