/**
 * GET /v1/models and /v1/models/{id} (aliases /models…), shared by every dialect: one superset
 * object per model that both OpenAI and Anthropic SDKs read (src/dialects/openai/models.ts), for
 * exactly the catalogue's names (ModelCatalog.names(): what the accounts serve, once known).
 * Errors are OpenAI-shaped, or Anthropic-shaped when the client sent `anthropic-version`.
 */
import { Elysia } from "elysia";
import { TurnError } from "../core/errors";
import { anthropicErrorBody, anthropicErrorType } from "../dialects/anthropic/errors";
import { openaiErrorResponse } from "../dialects/openai/errors";
import { findModel, modelList } from "../dialects/openai/models";
import type { Services } from "../services";
import { authenticateClient } from "./client-auth";
import { requestContext } from "./context";

export function modelsRoute(s: Services) {
  const find = (name: string) => s.models.find(name);

  function list(request: Request, requestId: string): Response {
    if (!authenticateClient(s, request)) return modelsError(request, unauthorized(), requestId);
    return json(modelList(find, s.models.names()), requestId);
  }

  function one(request: Request, requestId: string, rawId: string): Response {
    if (!authenticateClient(s, request)) return modelsError(request, unauthorized(), requestId);
    const id = decodeURIComponent(rawId);
    const m = findModel(find, id);
    if (!m) return modelsError(request, new TurnError("not_found", `The model \`${id}\` does not exist or you do not have access to it.`, { param: "model" }), requestId);
    return json(m, requestId);
  }

  return new Elysia({ name: "models-route" })
    .use(requestContext())
    .get("/v1/models", ({ request, requestId }) => list(request, requestId))
    .get("/models", ({ request, requestId }) => list(request, requestId))
    .get("/v1/models/:id", ({ request, requestId, params }) => one(request, requestId, params.id))
    .get("/models/:id", ({ request, requestId, params }) => one(request, requestId, params.id));
}

function unauthorized(): TurnError {
  return new TurnError("authentication", "Incorrect API key provided. Send the kiro-server client key as 'Authorization: Bearer <key>'.");
}

function json(v: unknown, requestId: string): Response {
  return new Response(JSON.stringify(v), { headers: { "content-type": "application/json", "x-request-id": requestId } });
}

/** /v1/models is shared: Anthropic clients (anthropic-version header) get Anthropic-shaped errors. */
function modelsError(request: Request, err: TurnError, requestId: string): Response {
  if (!request.headers.has("anthropic-version")) return openaiErrorResponse(err, requestId);
  const type = err.kind === "authentication" || err.kind === "not_found" ? anthropicErrorType(err) : "invalid_request_error";
  return new Response(JSON.stringify(anthropicErrorBody(type, err.message, requestId)), {
    status: err.status,
    headers: { "content-type": "application/json", "request-id": requestId, "x-request-id": requestId },
  });
}
