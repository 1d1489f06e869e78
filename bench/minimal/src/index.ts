/**
 * The least a converting proxy written in JavaScript on Bun can do, as a second floor for
 * bench/stream.ts: the raw passthrough (bench/lib/passthrough.ts) relays bytes natively; this one
 * also decodes the upstream's event stream and re-encodes it as Anthropic SSE, with kiro-server's
 * own decoder (src/kiro/stream/decode.ts) and encoder (src/dialects/anthropic/encode-stream.ts),
 * written per network chunk into a Bun direct stream and flushed — and nothing else: no routing
 * framework, validation, accounts, stop guard, token counts, request log or live log. The
 * upstream body is built once, as the passthrough's is. The upstream is read with kiro-server's
 * socket client (src/kiro/stream-http.ts), as kiro-server reads it by default; MINIMAL_HTTP=fetch
 * reads it with Bun's fetch instead (pass it with --baseline-env).
 *
 * Run it as bench/stream.ts's second server (it is laid out as a checkout: `<dir>/src/index.ts`),
 * for the /v1/messages route, or /v1/responses (kiro-server's Responses builder, src/dialects/
 * responses/builder.ts, with nothing stored: the floor of a Responses relay):
 *
 *   bun bench/stream.ts --route messages --baseline bench/minimal --open 0
 *   bun bench/stream.ts --route responses --baseline bench/minimal --open 0
 *
 * MINIMAL_RAW=1 (with --baseline-env) makes it a third floor, the JavaScript byte relay: the same
 * socket client and direct stream, each network read written to the client as it came, with no
 * decoding or encoding at all (one SSE event carrying the bench's first-text marker goes first,
 * `event: message_stop` last, so the bench's checks of a /v1/messages answer pass). It shows what
 * touching every read from JavaScript costs before any conversion:
 *
 *   bun bench/stream.ts --route messages --baseline bench/minimal --baseline-env MINIMAL_RAW=1 --open 0
 *
 * MINIMAL_SPLICE=1 (./splice.ts) is the floor of a byte-level conversion: each read parsed in one
 * pass, the text frames' JSON string bodies copied into Anthropic text deltas with no decoder or
 * encoder stage (MINIMAL_SPLICE=string: the same events made as a string). With bench/ab.ts it
 * shows what kiro-server's staged pipeline costs over it:
 *
 *   bun bench/ab.ts --frames 400 --rounds 60 --a-root bench/minimal --a-env MINIMAL_SPLICE=1 --b-root bench/minimal
 *
 * It reads what bench/stream.ts gives a server (PORT, KIRO_API_URL, KIRO_AUTH_URL and the
 * account's refresh token in KIRO_AUTH_TOKEN) and serves POST /v1/messages and /v1/responses only.
 * It exits on SIGTERM, so that `bun --cpu-prof` (bench/stream.ts --cpu-prof) writes its profile.
 */
import type { CanonicalEvent } from "../../../src/core/canonical";
import { AnthropicStreamEncoder } from "../../../src/dialects/anthropic/encode-stream";
import { ResponseBuilder } from "../../../src/dialects/responses/builder";
import type { Decoded } from "../../../src/dialects/dialect";
import { decodeResponsesRequest, type ResponsesExtra } from "../../../src/dialects/responses/decode";
import { newResponseId } from "../../../src/dialects/responses/ids";
import { FirstTimeNotices } from "../../../src/dialects/responses/notices";
import { kiroHeaders } from "../../../src/kiro/request/headers";
import { decodeKiroBatches } from "../../../src/kiro/stream/decode";
import { StreamHttpClient } from "../../../src/kiro/stream-http";
import type { BodyRead } from "../../../src/kiro/chunk-body";
import { promptTemplate } from "../../lib/upstream-template";
import { spliceBody } from "./splice";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const region = (url: string) => url.replace("{region}", "us-east-1");
const refreshToken = (JSON.parse(env("KIRO_AUTH_TOKEN")) as Array<{ refreshToken: string }>)[0]!.refreshToken;
const refreshed = await fetch(`${region(env("KIRO_AUTH_URL"))}/refreshToken`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ refreshToken }),
});
const { accessToken } = (await refreshed.json()) as { accessToken: string };
const upstream = `${region(env("KIRO_API_URL"))}/generateAssistantResponse`;
const headers = kiroHeaders({ accessToken, machineId: "0".repeat(64), authKind: "social" });

// A well-formed upstream body, built once; each request only swaps the user's text in.
const template = promptTemplate();
const socket = process.env.MINIMAL_HTTP === "fetch" ? undefined : new StreamHttpClient();
const model = template.model;
const RAW = process.env.MINIMAL_RAW === "1";
const SPLICE = process.env.MINIMAL_SPLICE;

type Body = { messages?: Array<{ content?: unknown }>; input?: unknown; model?: string };
const USAGE: CanonicalEvent = { type: "usage", usage: { inputTokens: 10, outputTokens: 1 } };

Bun.serve({
  port: Number(env("PORT")),
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST" || (path !== "/v1/messages" && path !== "/v1/responses")) return new Response("not found", { status: 404 });
    const body = (await req.json()) as Body;
    const text = path === "/v1/responses" ? body.input : body.messages?.at(-1)?.content;
    const upBody = template.body(typeof text === "string" ? text : "");
    let chunks: AsyncIterable<Uint8Array | BodyRead> | ReadableStream<Uint8Array>;
    if (socket) {
      const up = await socket.request(upstream, { method: "POST", headers, body: upBody, signal: req.signal });
      if (up.status !== 200) return new Response(`upstream ${up.status}`, { status: up.status });
      chunks = up.body;
    } else {
      const up = await fetch(upstream, { method: "POST", headers, body: upBody, signal: req.signal });
      if (!up.ok || !up.body) return new Response(await up.text(), { status: up.status });
      chunks = up.body;
    }
    if (RAW) return rawRelay(chunks as AsyncIterable<Uint8Array | BodyRead>);
    if (SPLICE) {
      const start = new AnthropicStreamEncoder("msg_minimal", model.requested, 10).start();
      return new Response(spliceBody(chunks as AsyncIterable<Uint8Array | BodyRead>, start, SPLICE === "string"), { headers: { "content-type": "text/event-stream; charset=utf-8" } });
    }
    const batches = decodeKiroBatches(chunks, { restoreToolName: (name) => name, thinkingTags: false });
    if (path === "/v1/responses") return responsesStream(batches, body);
    const enc = new AnthropicStreamEncoder("msg_minimal", model.requested, 10);
    const stream = new ReadableStream({
      type: "direct",
      async pull(controller: ReadableStreamDirectController) {
        controller.write(enc.start());
        controller.flush();
        for await (const batch of batches) {
          let out = "";
          // The decoder's stream carries no usage here; message_delta needs one before the stop.
          for (const ev of batch) out += (ev.type === "stop" ? enc.event(USAGE) : "") + enc.event(ev);
          if (out) {
            controller.write(out);
            controller.flush();
          }
        }
        controller.close();
      },
    } as unknown as UnderlyingDefaultSource<Uint8Array>);
    return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
  },
});

/**
 * What kiro-server's Responses decoder makes of the bench's body (store off), decoded once: each
 * answer takes it with its own id and time, so the echoed fields are the ones kiro-server sends.
 */
const RESPONSES_EXTRA = (
  decodeResponsesRequest(
    { model: model.requested, stream: true, input: "hi", store: false },
    { headers: new Headers(), clientKeyId: "minimal", signal: new AbortController().signal, resolveModel: () => model },
    {
      storage: {
        get: () => Promise.resolve(undefined),
        save: () => Promise.resolve(),
        delete: () => Promise.resolve(false),
      },
      notices: new FirstTimeNotices(console),
    },
  ) as Decoded<ResponsesExtra>
).extra;

/** The Responses stream of one answer: kiro-server's builder, nothing stored. */
function responsesStream(batches: AsyncIterable<CanonicalEvent[]>, body: Body): Response {
  const extra: ResponsesExtra = { ...RESPONSES_EXTRA, responseId: newResponseId(false), createdAt: Math.floor(Date.now() / 1000) };
  const b = new ResponseBuilder(extra, body.model ?? model.requested, true);
  const stream = new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      b.start();
      controller.write(b.take());
      controller.flush();
      for await (const batch of batches) {
        for (const ev of batch) {
          // The decoder's stream carries no usage here; the terminal event needs one.
          if (ev.type === "stop") b.push(USAGE);
          b.push(ev);
        }
        const out = b.take();
        if (out) {
          controller.write(out);
          controller.flush();
        }
      }
      b.end();
      controller.write(b.take());
      controller.close();
    },
  } as unknown as UnderlyingDefaultSource<Uint8Array>);
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
}

/** MINIMAL_RAW: the upstream's reads written to the client untouched (no conversion at all). */
function rawRelay(chunks: AsyncIterable<Uint8Array | BodyRead>): Response {
  const reads = chunks[Symbol.asyncIterator]();
  const stream = new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      controller.write('event: raw\ndata: {"type":"text_delta"}\n\n');
      controller.flush();
      for (let r = await reads.next(); !r.done; r = await reads.next()) {
        const v = r.value;
        controller.write(v instanceof Uint8Array ? v : v.end === v.bytes.length ? v.bytes : v.bytes.subarray(0, v.end));
        controller.flush();
      }
      controller.write("event: message_stop\n\n");
      controller.close();
    },
  } as unknown as UnderlyingDefaultSource<Uint8Array>);
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
}

process.on("SIGTERM", () => process.exit(0));
