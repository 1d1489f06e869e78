import type { PanelCtx } from "../context";
import { guardedGroup, htmlResponse } from "../context";
import type { LogLevel } from "../../logs/bus";
import { LEVELS, LogLine, LogsPage, LogView, visible } from "./page";

const parseLevel = (v: unknown): LogLevel => (LEVELS.includes(v as LogLevel) ? (v as LogLevel) : "info");

/** One SSE frame; every line of a multi-line payload gets its own `data:` (the client rejoins them). */
export function sseFrame(event: string, data: string): string {
  return `event: ${event}\n${data.split(/\r?\n/).map((l) => `data: ${l}`).join("\n")}\n\n`;
}

/**
 * Live logs: the page opens with the ring's recent lines, then the SSE stream pushes each new bus
 * event as a rendered, escaped <li>. The stream unsubscribes when the browser goes away.
 */
export function logRoutes(ctx: PanelCtx) {
  const open = new Set<() => void>();
  ctx.s.onShutdown.push(() => { for (const stop of [...open]) stop(); });
  const recent = () => ctx.s.ring.recent(200);

  return guardedGroup(ctx)
    .get("/logs", ({ query, session, tr }) =>
      htmlResponse(<LogsPage tr={tr} csrf={session!.csrf} version={ctx.s.version} level={parseLevel(query.level)} recent={recent()}
        instance={ctx.requests.cluster ? ctx.s.config.instanceId : undefined} />))
    .get("/logs/feed", ({ query, tr }) => {
      // The toggle button sends the current state plus toggle=1; the level select sends the state as is.
      const paused = (query.paused === "1") !== (query.toggle === "1");
      return htmlResponse(<LogView tr={tr} level={parseLevel(query.level)} paused={paused} recent={recent()} />);
    })
    .get("/logs/stream", ({ request, server, query, tr }) => {
      // Quiet periods are normal here; Bun's idle timeout must not cut the stream (pings keep proxies awake).
      server?.timeout(request, 0);
      const level = parseLevel(query.level);
      const enc = new TextEncoder();
      let stop = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const send = (chunk: string) => {
            try { controller.enqueue(enc.encode(chunk)); } catch { stop(); }
          };
          const off = ctx.s.bus.on((e) => {
            if (!visible(e, level)) return;
            const out = <LogLine tr={tr} e={e} />;
            if (typeof out === "string") send(sseFrame("log", out));
            else void out.then((html) => send(sseFrame("log", html)));
          });
          const ping = setInterval(() => send(": ping\n\n"), 15_000);
          stop = () => {
            off();
            clearInterval(ping);
            open.delete(stop);
            try { controller.close(); } catch { /* already closed */ }
          };
          open.add(stop);
          request.signal.addEventListener("abort", () => stop());
          send(": connected\n\n");
        },
        cancel() {
          stop();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } });
    });
}
