/**
 * Scenarios for the fake Kiro upstream: what the generateAssistantResponse event stream contains.
 *
 * A Scenario is a list of steps, played in order:
 *   {event, payload}          one event frame (payload = the ChatResponseStream member structure)
 *   {exception: {type, message, reason?}}   `:message-type: exception` frame
 *   {errorFrame: {code, message}}           `:message-type: error` frame
 *   {delayMs}                 pause before the next bytes (stalls, slow first byte)
 *   {rawBytes}                bytes appended verbatim
 *   {badCrc: {event, payload, where?}}      an event frame with one CRC bit flipped
 *   {abruptClose: true}       emit half of a frame, then end the body (later steps are ignored)
 *
 *   scenarioStream(s, {seed?, minChunk?, maxChunk?}) → ReadableStream<Uint8Array>
 *     the frames concatenated and re-split at random byte boundaries (seeded, reproducible;
 *     chunks of minChunk..maxChunk bytes, default 1..97) so decoders see frames and UTF-8
 *     sequences cut anywhere; delays are honoured between chunks. Between chunks the stream yields
 *     to the event loop (yieldBetweenChunks, default on) so each chunk reaches the socket as its
 *     own write and the client's reads really end inside frames. Cancelling the stream stops it.
 *   scenarioBytes(s) → Uint8Array  all bytes, delays ignored (decoder unit tests).
 *
 * Builders (textScenario, toolScenario, parallelToolScenario, ...) produce ready-made scenarios;
 * the *Steps helpers compose bigger ones, e.g. {steps: [...textSteps("hi"), ...usageSteps()]}.
 */
import { concatBytes, corruptCrc, encodeErrorFrame, encodeEvent, encodeException } from "./frames";

export type Step =
  /** `autoContextUsage`: the fake server recomputes this contextUsageEvent from the real request. */
  | { event: string; payload: object; autoContextUsage?: boolean }
  | { exception: { type: string; message: string; reason?: string } }
  | { errorFrame: { code: string; message: string } }
  | { delayMs: number }
  | { rawBytes: Uint8Array }
  | { badCrc: { event: string; payload: object; where?: "prelude" | "message" | "payload" } }
  | { abruptClose: true };

export type Scenario = { name?: string; steps: Step[] };

export type ScenarioStreamOptions = {
  seed?: number;
  minChunk?: number;
  maxChunk?: number;
  /**
   * Yield to the event loop before every chunk after the first (default true). Without it a
   * pull() that always has a chunk ready lets Bun write the whole body in one socket write, so
   * the client would never see a frame cut by the network — which is the point of the fake.
   */
  yieldBetweenChunks?: boolean;
  /**
   * "random" (default): frames re-split at random byte boundaries, the hardest case for a decoder.
   * "frame": one write per frame, each encoded just before it is written, as a real upstream
   * flushes each event as it is generated — the baseline for bench/stream.ts.
   * "burst": one write per frame, all encoded up front and written back to back, so the network
   * coalesces them and a reader gets many frames per read (a stream that was held up somewhere).
   */
  chunking?: "random" | "frame" | "burst";
  /**
   * With "frame": wait this many milliseconds before each frame after the first instead of one
   * event-loop turn, as a model generating its answer spaces its events (each one its own read).
   */
  frameIntervalMs?: number;
  /** Called right before the body's first chunk is handed to the response (bench timing). */
  onFirstChunk?: () => void;
};

/** One macrotask turn: lets Bun flush the previous chunk to the socket before the next. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------- playback

/** Bytes and delays in play order (adjacent frames merged so they can be re-split anywhere). */
export function scenarioPlan(s: Scenario): Array<Uint8Array | { delayMs: number }> {
  const plan: Array<Uint8Array | { delayMs: number }> = [];
  let pending: Uint8Array[] = [];
  const flush = () => {
    if (pending.length) plan.push(concatBytes(pending));
    pending = [];
  };
  for (const step of s.steps) {
    if ("delayMs" in step) {
      flush();
      plan.push({ delayMs: step.delayMs });
    } else if ("abruptClose" in step) {
      const frame = encodeEvent("assistantResponseEvent", { content: "this frame is cut in half" });
      pending.push(frame.subarray(0, frame.length >> 1));
      break;
    } else {
      pending.push(stepBytes(step));
    }
  }
  flush();
  return plan;
}

/** Like scenarioPlan, but one entry per frame (nothing merged): a real upstream's write pattern. */
/**
 * One item per frame, each encoded only when it is about to be written: a real upstream sends
 * each event as the model produces it, so the first frame must not wait for the encoding of the
 * rest (for a 400-frame answer that wait was ~6 ms of the fake's time to first byte).
 */
function framePlan(s: Scenario): Array<(() => Uint8Array) | { delayMs: number }> {
  const plan: Array<(() => Uint8Array) | { delayMs: number }> = [];
  for (const step of s.steps) {
    if ("delayMs" in step) plan.push({ delayMs: step.delayMs });
    else if ("abruptClose" in step) {
      plan.push(() => {
        const frame = encodeEvent("assistantResponseEvent", { content: "this frame is cut in half" });
        return frame.subarray(0, frame.length >> 1);
      });
      break;
    } else plan.push(() => stepBytes(step));
  }
  return plan;
}

function stepBytes(step: Exclude<Step, { delayMs: number } | { abruptClose: true }>): Uint8Array {
  if ("event" in step) return encodeEvent(step.event, step.payload);
  if ("exception" in step) return encodeException(step.exception.type, step.exception.message, { reason: step.exception.reason });
  if ("errorFrame" in step) return encodeErrorFrame(step.errorFrame.code, step.errorFrame.message);
  if ("rawBytes" in step) return step.rawBytes;
  return corruptCrc(encodeEvent(step.badCrc.event, step.badCrc.payload), step.badCrc.where ?? "message");
}

export function scenarioBytes(s: Scenario): Uint8Array {
  return concatBytes(scenarioPlan(s).filter((p): p is Uint8Array => p instanceof Uint8Array));
}

/** mulberry32: tiny seeded PRNG so a failing split pattern can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function splitRandomly(bytes: Uint8Array, rand: () => number, minChunk = 1, maxChunk = 97): Uint8Array[] {
  const out: Uint8Array[] = [];
  const min = Math.max(1, minChunk);
  const max = Math.max(min, maxChunk);
  for (let o = 0; o < bytes.length; ) {
    const n = min + Math.floor(rand() * (max - min + 1));
    out.push(bytes.slice(o, o + n)); // copies: a consumer may keep or mutate its chunk
    o += n;
  }
  return out;
}

export function scenarioStream(s: Scenario, opts: ScenarioStreamOptions = {}): ReadableStream<Uint8Array> {
  const rand = prng(opts.seed ?? 1);
  const items: Array<Uint8Array | (() => Uint8Array) | number> = [];
  const perFrame = opts.chunking === "frame" || opts.chunking === "burst";
  for (const p of perFrame ? framePlan(s) : scenarioPlan(s)) {
    if (p instanceof Uint8Array) items.push(...splitRandomly(p, rand, opts.minChunk, opts.maxChunk));
    else if (typeof p === "function") items.push(opts.chunking === "burst" ? p() : p);
    else items.push(p.delayMs);
  }
  const yieldBetween = opts.yieldBetweenChunks ?? true;
  let i = 0;
  let sent = 0;
  let cancelled = false;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (i < items.length && !cancelled) {
        const item = items[i++]!;
        if (typeof item === "number") {
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, item);
          });
          continue;
        }
        if (yieldBetween && sent > 0) {
          await (opts.frameIntervalMs ? Bun.sleep(opts.frameIntervalMs) : nextTurn());
          if (cancelled) break;
        }
        const chunk = typeof item === "function" ? item() : item;
        if (sent++ === 0) opts.onFirstChunk?.();
        controller.enqueue(chunk);
        return;
      }
      if (!cancelled) controller.close();
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      wake?.();
    },
  });
}

// ---------------------------------------------------------------- step helpers

/** Splits by code points (never inside a surrogate pair) into about `chunks` deltas. */
export function splitText(text: string, chunks: number): string[] {
  const cps = Array.from(text);
  const n = Math.max(1, Math.min(chunks, cps.length));
  const size = Math.ceil(cps.length / n);
  const out: string[] = [];
  for (let o = 0; o < cps.length; o += size) out.push(cps.slice(o, o + size).join(""));
  return out;
}

export const textEvent = (content: string): Step => ({ event: "assistantResponseEvent", payload: { content } });

export function textSteps(text: string, chunks = 3): Step[] {
  return splitText(text, chunks).map(textEvent);
}

export type ToolCallSpec = {
  name: string;
  /** Object → JSON-encoded; string → sent verbatim (may be invalid JSON); undefined → no input. */
  input?: unknown;
  id?: string;
  /** Characters per input fragment (default 12). */
  fragmentSize?: number;
};

let idCounter = 0;
/** `tooluse_` + 22 base64url chars, the real id format. */
export function toolUseId(n = ++idCounter): string {
  return "tooluse_" + `Fk${n.toString(36)}`.padEnd(22, "Q").slice(0, 22);
}

/** Frames of one call in the fake's shape (docs/upstream.md, Tool calls in the stream): first without input, fragments, stop without input. */
export function toolSteps(call: ToolCallSpec): Step[] {
  const id = call.id ?? toolUseId();
  const json = call.input === undefined ? "" : typeof call.input === "string" ? call.input : JSON.stringify(call.input);
  const steps: Step[] = [{ event: "toolUseEvent", payload: { name: call.name, toolUseId: id } }];
  for (const frag of splitText(json, Math.ceil(json.length / (call.fragmentSize ?? 12)))) {
    if (frag) steps.push({ event: "toolUseEvent", payload: { input: frag, name: call.name, toolUseId: id } });
  }
  steps.push({ event: "toolUseEvent", payload: { name: call.name, stop: true, toolUseId: id } });
  return steps;
}

export function usageSteps(u: {
  uncachedInputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  contextUsagePercentage?: number;
  credits?: number;
} = {}): Step[] {
  const steps: Step[] = [];
  if (u.uncachedInputTokens !== undefined || u.outputTokens !== undefined) {
    const input = u.uncachedInputTokens ?? 0;
    const output = u.outputTokens ?? 0;
    const tokenUsage: Record<string, number> = { uncachedInputTokens: input, outputTokens: output, totalTokens: input + output };
    if (u.cacheReadInputTokens !== undefined) tokenUsage.cacheReadInputTokens = u.cacheReadInputTokens;
    steps.push({ event: "metadataEvent", payload: { tokenUsage } });
  }
  // Real ordering: metering then context usage, last.
  steps.push({ event: "meteringEvent", payload: { unit: "credit", unitPlural: "credits", usage: u.credits ?? 0.176 } });
  // Without an explicit value the server recomputes it from the request (as the real service
  // reports the prompt's share of the window); 12.34 is what is sent when streamed stand-alone.
  steps.push(u.contextUsagePercentage !== undefined
    ? { event: "contextUsageEvent", payload: { contextUsagePercentage: u.contextUsagePercentage } }
    : { event: "contextUsageEvent", payload: { contextUsagePercentage: 12.34 }, autoContextUsage: true });
  return steps;
}

// ---------------------------------------------------------------- ready-made scenarios

export function textScenario(text: string, opts: { chunks?: number; usage?: boolean } = {}): Scenario {
  return { name: "text", steps: [...textSteps(text, opts.chunks ?? 3), ...(opts.usage === false ? [] : usageSteps())] };
}

/** `frames` assistantResponseEvents of `deltaSize` chars each (long answers, benchmarks). */
export function longScenario(frames: number, deltaSize = 40): Scenario {
  const steps: Step[] = [];
  for (let i = 0; i < frames; i++) steps.push(textEvent(`${i} `.padEnd(deltaSize, "lorem ipsum é ✓ ")));
  return { name: "long", steps: [...steps, ...usageSteps()] };
}

/** Optional leading text, then the calls one after another (the usual upstream shape). */
export function toolScenario(calls: ToolCallSpec[], opts: { text?: string } = {}): Scenario {
  return {
    name: "tool",
    steps: [...(opts.text ? textSteps(opts.text, 2) : []), ...calls.flatMap(toolSteps), ...usageSteps()],
  };
}

/** Two (or more) calls whose frames are interleaved round-robin (decoder must serialize them). */
export function parallelToolScenario(calls: ToolCallSpec[]): Scenario {
  const perCall = calls.map(toolSteps);
  const steps: Step[] = [];
  for (let i = 0; perCall.some((s) => i < s.length); i++) {
    for (const s of perCall) if (i < s.length) steps.push(s[i]!);
  }
  return { name: "parallel-tools", steps: [...steps, ...usageSteps()] };
}

/** `<thinking>` tags inside ordinary text deltas, cut every `chunkSize` chars (splits the tags). */
export function thinkingTagScenario(thinking: string, answer: string, chunkSize = 4): Scenario {
  const full = `<thinking>\n${thinking}</thinking>\n\n${answer}`;
  return { name: "thinking-tags", steps: [...textSteps(full, Math.ceil(full.length / chunkSize)), ...usageSteps()] };
}

/** Native reasoningContentEvent deltas, a signature, then the answer. */
export function reasoningScenario(thinking: string, answer: string, signature = "sig-abc123"): Scenario {
  return {
    name: "reasoning",
    steps: [
      ...splitText(thinking, 3).map((text): Step => ({ event: "reasoningContentEvent", payload: { text } })),
      { event: "reasoningContentEvent", payload: { signature } },
      ...textSteps(answer, 2),
      ...usageSteps(),
    ],
  };
}

export function usageScenario(): Scenario {
  return {
    name: "usage",
    steps: [
      ...textSteps("ok", 1),
      ...usageSteps({ uncachedInputTokens: 1200, outputTokens: 34, cacheReadInputTokens: 100, contextUsagePercentage: 0.6, credits: 0.25 }),
    ],
  };
}

/** The same content frame twice in a row (whether the real service repeats deltas is unconfirmed). */
export function duplicateFrameScenario(delta = "la"): Scenario {
  return { name: "duplicate-frame", steps: [textEvent("Tra"), textEvent(delta), textEvent(delta), textEvent("!")] };
}

/** Some text, then an exception frame (default ThrottlingException). */
export function exceptionScenario(type = "ThrottlingException", message = "Too many requests", opts: { text?: string; reason?: string } = {}): Scenario {
  return { name: "exception", steps: [...textSteps(opts.text ?? "Partial answer", 2), { exception: { type, message, reason: opts.reason } }] };
}

export function errorFrameScenario(code = "InternalFailure", message = "internal error"): Scenario {
  return { name: "error-frame", steps: [...textSteps("Partial", 1), { errorFrame: { code, message } }] };
}

export function contentLengthScenario(text = "A long answer that gets cut"): Scenario {
  return {
    name: "content-length",
    steps: [
      ...textSteps(text, 3),
      { exception: { type: "ContentLengthExceededException", message: "Response exceeded the maximum output length" } },
      ...usageSteps(),
    ],
  };
}

/** Slow first byte and pauses between frames. */
export function stallScenario(text = "slow answer", opts: { beforeMs?: number; betweenMs?: number; pieces?: number } = {}): Scenario {
  const steps: Step[] = [{ delayMs: opts.beforeMs ?? 50 }];
  for (const s of textSteps(text, opts.pieces ?? 3)) steps.push(s, { delayMs: opts.betweenMs ?? 20 });
  return { name: "stall", steps };
}

export function abruptCloseScenario(text = "cut off"): Scenario {
  return { name: "abrupt-close", steps: [...textSteps(text, 2), { abruptClose: true }] };
}

export function badCrcScenario(where: "prelude" | "message" | "payload" = "message"): Scenario {
  return {
    name: "bad-crc",
    steps: [...textSteps("before", 1), { badCrc: { event: "assistantResponseEvent", payload: { content: "corrupt" }, where } }, ...textSteps("after", 1)],
  };
}
