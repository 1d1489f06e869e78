/** Shared helpers for the decoder tests: feed byte chunks, collect events or the thrown error. */
import type { CanonicalEvent } from "../../../src/core/canonical";
import { KiroError } from "../../../src/kiro/errors";
import { decodeKiroStream, type DecodeKiroStreamOptions } from "../../../src/kiro/stream/decode";

export const restore = (n: string) => (n.startsWith("t_") ? `restored_${n.slice(2)}` : n);

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

export async function collect(
  body: ReadableStream<Uint8Array> | Uint8Array[],
  opts: Partial<DecodeKiroStreamOptions> = {},
): Promise<CanonicalEvent[]> {
  const out: CanonicalEvent[] = [];
  const src = Array.isArray(body) ? fromChunks(body) : body;
  for await (const ev of decodeKiroStream(src, { restoreToolName: restore, ...opts })) out.push(ev);
  return out;
}

/** Events collected before the failure, plus the KiroError (fails the test if none was thrown). */
export async function collectUntilError(
  body: ReadableStream<Uint8Array> | Uint8Array[],
  opts: Partial<DecodeKiroStreamOptions> = {},
): Promise<{ events: CanonicalEvent[]; error: KiroError }> {
  const events: CanonicalEvent[] = [];
  const src = Array.isArray(body) ? fromChunks(body) : body;
  try {
    for await (const ev of decodeKiroStream(src, { restoreToolName: restore, ...opts })) events.push(ev);
  } catch (e) {
    if (e instanceof KiroError) return { events, error: e };
    throw e;
  }
  throw new Error(`expected a KiroError, got events ${JSON.stringify(events)}`);
}

export const textOf = (evs: CanonicalEvent[], type: "text" | "thinking" = "text") =>
  evs.map((e) => (e.type === type ? e.text : "")).join("");

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}
