import type { Server } from "bun";
import type { App } from "./app";
import type { Services } from "./services";
import { serverBodyBackstop } from "./http/body-limit";

export class PortInUseError extends Error {
  constructor(public readonly port: number) {
    super(`port ${port} is already in use — stop the other program or set PORT`);
    this.name = "PortInUseError";
  }
}

/**
 * Listens without reusePort (Elysia's default would let a second copy share the port and split
 * traffic between two pools, each with its own state). Long requests are protected per route by
 * server.timeout(request, 0); the global idle timeout only catches truly dead sockets.
 */
export function listen(app: App, s: Services): Server<unknown> {
  try {
    app.listen({ port: s.config.port, hostname: s.config.host, reusePort: false, idleTimeout: 120, maxRequestBodySize: serverBodyBackstop(s.config.maxBodyMb) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /EADDRINUSE|address already in use|in use/i.test(String(e))) throw new PortInUseError(s.config.port);
    throw e;
  }
  return app.server!;
}

/**
 * Graceful stop: stop accepting, let in-flight requests and streams finish for at most
 * graceMs, then close what is left. Resolves when the server is fully stopped.
 */
export async function drain(server: Server<unknown>, graceMs: number): Promise<{ forced: boolean }> {
  const closing = server.stop(false);
  const deadline = Date.now() + graceMs;
  while (server.pendingRequests > 0 && Date.now() < deadline) await Bun.sleep(25);
  const forced = server.pendingRequests > 0;
  if (forced) await server.stop(true);
  else await closing;
  return { forced };
}
