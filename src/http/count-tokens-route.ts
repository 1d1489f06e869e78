/**
 * POST /v1/messages/count_tokens (alias /messages/count_tokens), Anthropic only: the local
 * estimate of the prompt, calibrated per model by what the upstream reported so far
 * (InputCalibration), so it agrees with the usage of a real request for the same body. The count
 * runs in slices (InputTokenEstimator.estimateAsync): a megabyte prompt never stalls other requests.
 */
import { Elysia } from "elysia";
import { TurnError } from "../core/errors";
import { decodeAnthropicRequest } from "../dialects/anthropic/decode";
import { ANTHROPIC_UNAUTHORIZED, anthropicHeaders, parseAnthropicBody } from "../dialects/anthropic/dialect";
import { anthropicErrorResponse } from "../dialects/anthropic/errors";
import type { Services } from "../services";
import { bodyLimitHook, maxBodyBytes, readBodyText } from "./body-limit";
import { authenticateClient } from "./client-auth";
import { requestContext } from "./context";
import { asTurnError } from "./dialect-route";

const PATHS = ["/v1/messages/count_tokens", "/messages/count_tokens"] as const;

export function countTokensRoute(s: Services) {
  async function count(request: Request, requestId: string): Promise<Response> {
    try {
      if (!authenticateClient(s, request)) throw new TurnError("authentication", ANTHROPIC_UNAUTHORIZED);
      const body = parseAnthropicBody(await readBodyText(request, maxBodyBytes(s.config.maxBodyMb)));
      const { req } = decodeAnthropicRequest(body, { forCounting: true, resolveModel: (name) => s.models.resolve(name) });
      const inputTokens = s.calibration.calibrated(req.model.upstreamId, await s.tokens.estimateAsync(req));
      return new Response(JSON.stringify({ input_tokens: inputTokens }), {
        headers: { "content-type": "application/json", ...anthropicHeaders(requestId), "x-request-id": requestId },
      });
    } catch (err) {
      return anthropicErrorResponse(asTurnError(s, err, requestId), requestId);
    }
  }

  // parse: "none" — the body is read here, so a malformed one gets an Anthropic-shaped 400.
  return new Elysia({ name: "count-tokens-route" })
    .onRequest(bodyLimitHook(s.config.maxBodyMb, PATHS, anthropicErrorResponse))
    .use(requestContext())
    .post("/v1/messages/count_tokens", ({ request, requestId }) => count(request, requestId), { parse: "none" })
    .post("/messages/count_tokens", ({ request, requestId }) => count(request, requestId), { parse: "none" });
}
