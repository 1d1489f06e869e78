import { TurnError } from "../../core/errors";
import { invalidParam, ResponsesRequestError } from "./errors";
import { landingWaitMs } from "./ids";
import { expandStoredOutput, type LookupOptions, type ResponseStorage, type StoredItem } from "./storage";

/**
 * The stored-response routes, shaped like the OpenAI API:
 *   GET    /v1/responses/{id}              the response object
 *   DELETE /v1/responses/{id}              {id, object: "response.deleted", deleted: true}
 *   GET    /v1/responses/{id}/input_items  cursor page {object:"list", data, first_id, last_id, has_more}
 * A response of another client key, an expired one and one made with `store: false` are all
 * "not found" (404). Each function resolves to the JSON body or rejects with a TurnError. A response
 * completed a moment ago on another instance may still be being stored: `lookup` lets the storage
 * look again briefly for such an id (./ids.ts `landingWaitMs`).
 */
const lookup = (id: string, signal?: AbortSignal): LookupOptions => ({ waitMs: landingWaitMs(id), signal });

function notFound(id: string): TurnError {
  return new ResponsesRequestError("not_found", `Response with id '${id}' not found.`, "response_id", "not_found");
}

export async function retrieveResponse(storage: ResponseStorage, id: string, clientKeyId: string, query: URLSearchParams, signal?: AbortSignal): Promise<Record<string, unknown>> {
  if (query.get("stream") === "true") throw invalidParam("stream", "Streaming a stored response is only available for background responses, which this server does not run.");
  const r = await storage.get(id, clientKeyId, lookup(id, signal));
  if (!r) throw notFound(id);
  return expandStoredOutput(r);
}

export async function deleteResponse(storage: ResponseStorage, id: string, clientKeyId: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  if (!(await storage.delete(id, clientKeyId, lookup(id, signal)))) throw notFound(id);
  return { id, object: "response.deleted", deleted: true };
}

export async function listInputItems(storage: ResponseStorage, id: string, clientKeyId: string, query: URLSearchParams, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const r = await storage.get(id, clientKeyId, lookup(id, signal));
  if (!r) throw notFound(id);
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw invalidParam("order", "Invalid value for 'order': expected asc or desc.");
  const limitRaw = query.get("limit");
  const limit = limitRaw == null ? 20 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidParam("limit", "Invalid value for 'limit': expected an integer from 1 to 100.");
  let items: StoredItem[] = order === "asc" ? r.input.slice() : r.input.slice().reverse();
  const after = query.get("after");
  if (after) {
    const at = items.findIndex((it) => it.id === after);
    if (at < 0) throw invalidParam("after", `Invalid value for 'after': no input item '${after}' in this response.`);
    items = items.slice(at + 1);
  }
  const page = items.slice(0, limit);
  return {
    object: "list",
    data: page,
    first_id: (page[0]?.id as string | undefined) ?? null,
    last_id: (page[page.length - 1]?.id as string | undefined) ?? null,
    has_more: items.length > limit,
  };
}
