import { Elysia } from "elysia";
import { newRequestId } from "./request-id";

/**
 * The request context every route is typed with: `requestId` (the client's X-Request-Id, at most
 * 64 characters, or a new one). A named plugin, so however many route plugins use it, the derive
 * runs once per request.
 */
export const requestContext = () =>
  new Elysia({ name: "request-context" }).derive({ as: "global" }, ({ request }) => ({
    requestId: request.headers.get("x-request-id")?.slice(0, 64) || newRequestId(),
  }));
