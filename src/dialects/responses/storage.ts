/**
 * What the Responses dialect needs from storage (src/db/responses-store.ts implements it; the
 * route passes the instance in). Records of another client key, and expired ones, read as absent.
 */
export type StoredItem = Record<string, unknown>;

/**
 * In a stored response's `output`: "the record's `output[i]`, as it is" (an item the client saw
 * exactly as a continuation replays it is kept once). Records written before this form have the
 * items themselves; both read back the same (`expandStoredOutput`).
 */
export type StoredOutputRef = { $output: number };

export const storedOutputRef = (i: number): StoredOutputRef => ({ $output: i });

/**
 * The response as stored: an output item that is also the replayed item (everything but
 * reasoning with hidden encrypted_content and searches with hidden sources) is stored once, in
 * the record's `output`, and the response holds a reference to it: a long answer's text is
 * serialised and written once instead of twice. `expandStoredOutput` undoes it.
 */
export function storedForm(response: Record<string, unknown>, replayOutput: StoredItem[]): Record<string, unknown> {
  const output = response.output as unknown[];
  return { ...response, output: output.map((it, i): unknown => (it === replayOutput[i] ? storedOutputRef(i) : it)) };
}

/** The response object of a record with its output references replaced by the items. */
export function expandStoredOutput(r: StoredRecord): Record<string, unknown> {
  const out = r.response.output;
  if (!Array.isArray(out)) return r.response;
  return {
    ...r.response,
    output: out.map((it: unknown) => {
      const ref = typeof it === "object" && it !== null ? (it as Partial<StoredOutputRef>).$output : undefined;
      return typeof ref === "number" && r.output[ref] !== undefined ? r.output[ref] : it;
    }),
  };
}

export type StoredRecord = {
  id: string;
  clientKeyId: string;
  createdAt: number;
  /** The response object as the client received it, its output items possibly as StoredOutputRef. */
  response: Record<string, unknown>;
  input: StoredItem[];
  output: StoredItem[];
  /**
   * `response` and `output` as JSON (the text `JSON.stringify` gives), assembled from what the
   * builder already serialised; called by the store when it writes the record, off the request path.
   */
  json?: () => StoredJson;
};

/** A stored record's response and output as JSON text. */
export type StoredJson = { response: string; output: string };

/** How a read or delete treats a record that is not there (yet). */
export type LookupOptions = {
  /**
   * Look again for up to this long while the id is unknown: another instance may be storing it
   * right now (its write follows the client's terminal event). 0 or absent: answer at once.
   * A record that exists for another key, or expired, is answered at once either way.
   */
  waitMs?: number;
  /** Stops the waiting (the client went away). */
  signal?: AbortSignal;
};

/**
 * Every method is asynchronous. `save` returns at once and the record is written in the
 * background (the promise settles when it is stored; the caller does not wait for it); until then
 * reads of it on this instance answer from memory.
 */
export interface ResponseStorage {
  get(id: string, clientKeyId: string, opts?: LookupOptions): Promise<StoredRecord | undefined>;
  save(r: StoredRecord, ttlMs: number): Promise<void>;
  /** True when the key's record existed and is gone now. */
  delete(id: string, clientKeyId: string, opts?: LookupOptions): Promise<boolean>;
}
