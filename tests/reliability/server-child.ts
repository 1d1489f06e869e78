/**
 * The real server (config → services → app → socket, as src/index.ts builds it) in a child process,
 * for the reliability suite and the benches: memory is measured in a process of its own, and a
 * crash cannot hide inside the test runner. Configuration comes from the environment exactly as
 * for the real executable (PORT=0 picks a free port).
 *
 * stdout: "ready <port>" once listening. stdin commands, one per line:
 *   gc        → full garbage collection (and heap shrink), then "rss <bytes>"
 *   rss       → "rss <bytes>"
 *   accounts  → "accounts <JSON [{label, requests, errors, state}]>" (from the pool's list())
 *   lag       → "lag <wall ms> <cpu ms>": since the previous "lag", the longest the event loop
 *               went without running a 5 ms timer, and the most CPU time the process used within
 *               one such gap. The wall figure includes time the OS did not run the process (a busy
 *               machine); the CPU figure is the loop really being held by work.
 */
import { loadConfig } from "../../src/config/load";
import { bootServices } from "../../src/boot";
import { createApp } from "../../src/app";
import { listen } from "../../src/server";

const { config } = loadConfig(process.argv.slice(2), process.env);
const { services } = await bootServices(config);
const app = createApp(services);
const server = listen(app, services);
const out = (line: string) => process.stdout.write(line + "\n");
let lastTick = performance.now();
let lastCpu = process.cpuUsage();
let maxGap = 0;
let maxCpu = 0;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  maxGap = Math.max(maxGap, now - lastTick - 5);
  maxCpu = Math.max(maxCpu, cpuMs(cpu) - cpuMs(lastCpu));
  lastTick = now;
  lastCpu = cpu;
}, 5);
out(`ready ${server.port}`);

let buffered = "";
for await (const chunk of Bun.stdin.stream()) {
  buffered += new TextDecoder().decode(chunk);
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const cmd = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (cmd === "gc") {
      Bun.gc(true);
      // As src/index.ts does after start-up: hand freed heap pages back to the OS.
      (Bun as unknown as { shrink?: () => void }).shrink?.();
      out(`rss ${process.memoryUsage.rss()}`);
    } else if (cmd === "rss") out(`rss ${process.memoryUsage.rss()}`);
    else if (cmd === "lag") {
      out(`lag ${maxGap.toFixed(1)} ${maxCpu.toFixed(1)}`);
      maxGap = 0;
      maxCpu = 0;
    } else if (cmd === "accounts") {
      out(`accounts ${JSON.stringify(services.pool.list().map((a) => ({ label: a.label, requests: a.requests, errors: a.errors, state: a.state })))}`);
    }
  }
}
// stdin closed: the parent is gone.
process.exit(0);
