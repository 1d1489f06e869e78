import { Elysia } from "elysia";
import type { Services } from "./services";
import { healthRoutes } from "./http/health";
import { dialectRoutes, type DialectRoutesOptions } from "./http/dialects";
import { requestContext } from "./http/context";
import { statusRoutes } from "./http/status-routes";
import { adminRoutes } from "./http/admin-routes";
import { metricsRoutes } from "./http/metrics-routes";
import { newRequestId } from "./http/request-id";
import { jsonError } from "./http/json-error";

/**
 * Builds the whole HTTP surface from services. No socket here: tests call app.handle().
 * Each surface is one plugin; /v1 routes shape their own errors in their dialect.
 */
export function createApp(s: Services, opts: DialectRoutesOptions = {}) {
  return new Elysia()
    .use(requestContext())
    .onAfterHandle({ as: "global" }, ({ set, requestId }) => {
      set.headers["x-request-id"] = requestId;
    })
    // /v1 requests rejected before a turn started (bad key, bad body) would otherwise leave no
    // trace in the live log; turns log their own one-line summary (src/turn/record.ts).
    .onAfterResponse({ as: "global" }, ({ request, set, requestId, path, responseValue }) => {
      if (!requestId || s.summaries.take(requestId) || !path.startsWith("/v1")) return;
      // Routes return ready Responses (their own status); plain values use set.status.
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      const line = `${request.method} ${path} → ${status}`;
      if (status >= 400) s.log.child(requestId).warn(line);
      else s.log.child(requestId).debug(line);
    })
    .use(healthRoutes(s))
    .use(dialectRoutes(s, opts))
    .use(statusRoutes(s))
    .use(metricsRoutes(s))
    .use(adminRoutes(s))
    // Unknown routes and unexpected failures: one JSON shape, never a stack trace.
    // Explicit Responses: plugins such as @elysiajs/html otherwise rewrite returned objects.
    .onError({ as: "global" }, ({ code, error, path, request, requestId: derived }) => {
      // derive() has not run for unmatched routes, so the id may have to be made here.
      const requestId: string = derived ?? (request.headers.get("x-request-id")?.slice(0, 64) || newRequestId());
      const h = { "x-request-id": requestId };
      if (code === "NOT_FOUND") return jsonError(404, "not_found_error", `no route for ${request.method} ${path}`, h);
      if (code === "PARSE") return jsonError(400, "invalid_request_error", "request body is not valid JSON", h);
      if (code === "VALIDATION") return jsonError(400, "invalid_request_error", "request failed validation", h);
      s.log.error("unhandled error", { requestId, path, error: error instanceof Error ? error.message : String(error) });
      return jsonError(500, "api_error", `internal error; see the server log for request ${requestId}`, h);
    });
}

export type App = ReturnType<typeof createApp>;
