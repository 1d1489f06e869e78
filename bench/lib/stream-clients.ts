/**
 * The client side of bench/stream.ts: one target per route (and the passthrough), each able to
 * send a streamed request for an answer of N upstream frames and time its first text.
 *
 * "First text" is the moment the client holds a complete event carrying answer text: for a route,
 * its first text delta event (blank line included); for the passthrough, the first complete
 * upstream frame of type assistantResponseEvent (a route can only answer once a whole frame, CRC
 * included, is in). Every route's first text therefore waits on the same upstream frame.
 */

export type Target = {
  name: string;
  /** The process serving it (its CPU and memory are what is measured). */
  pid: number;
  /** Sends a streamed request whose prompt is `prompt`. */
  send: (prompt: string, signal?: AbortSignal) => Promise<Response>;
  /** True once `text` (everything read so far) holds a complete first text event. */
  firstText: (text: string) => boolean;
  /** Throws unless `body` is a complete answer whose last text delta is frame `frames - 1`. */
  check: (body: string, frames: number) => void;
};

/**
 * Refresh tokens of the bench's fake accounts (distinct, realistic length: the pool refuses
 * tokens shorter than real ones). The fake and KIRO_AUTH_TOKEN are given the same list.
 */
export function benchRefreshTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `aorA${new Bun.CryptoHasher("sha256").update(`bench account ${i}`).digest("base64url").repeat(3)}`);
}

/** A prompt asking the fake for an answer of `frames` text frames. */
export const longPrompt = (frames: number) => `Write a long answer [[fake:long:${frames}]]`;

/** SSE: the event containing `marker` has arrived whole (its terminating blank line is in). */
function sseEventWith(marker: string): (text: string) => boolean {
  return (text) => {
    const at = text.indexOf(marker);
    return at >= 0 && text.indexOf("\n\n", at) >= 0;
  };
}

/** The fake's long answer ends with a delta starting "<frames - 1> " (see longScenario). */
function lastDelta(body: string, frames: number, route: string): void {
  if (!body.includes(`"${frames - 1} lorem`)) throw new Error(`${route}: the last text delta is missing: …${body.slice(-300)}`);
}

export function anthropicTarget(url: string, key: string, pid: number): Target {
  const name = "POST /v1/messages";
  return {
    name,
    pid,
    send: (prompt, signal) =>
      fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 32000, stream: true, messages: [{ role: "user", content: prompt }] }),
        signal,
      }),
    firstText: sseEventWith(`"type":"text_delta"`),
    check: (body, frames) => {
      if (!body.includes("event: message_stop")) throw new Error(`${name} did not complete: ${body.slice(0, 300)}`);
      lastDelta(body, frames, name);
    },
  };
}

export function chatTarget(url: string, key: string, pid: number): Target {
  const name = "POST /v1/chat/completions";
  const firstContent = /"delta":\{[^}]*"content":"[^"]/;
  return {
    name,
    pid,
    send: (prompt, signal) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: prompt }] }),
        signal,
      }),
    firstText: (text) => {
      const m = firstContent.exec(text);
      return m !== null && text.indexOf("\n\n", m.index) >= 0;
    },
    check: (body, frames) => {
      if (!body.endsWith("data: [DONE]\n\n")) throw new Error(`${name} did not complete: ${body.slice(0, 300)}`);
      lastDelta(body, frames, name);
    },
  };
}

/**
 * The Responses API route; the bench skips it (with a notice) while the server answers 404.
 * `extra` is merged into every request body (e.g. `{"tools":[{"type":"web_search"}]}`).
 */
export function responsesTarget(url: string, key: string, pid: number, extra: Record<string, unknown> = {}): Target {
  const name = "POST /v1/responses";
  return {
    name,
    pid,
    send: (prompt, signal) =>
      fetch(`${url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", stream: true, input: prompt, ...extra }),
        signal,
      }),
    firstText: sseEventWith(`"response.output_text.delta"`),
    check: (body, frames) => {
      if (!body.includes("response.completed")) throw new Error(`${name} did not complete: ${body.slice(0, 300)}`);
      lastDelta(body, frames, name);
    },
  };
}

/** The raw passthrough, sent the /v1/messages body (so both pay to send and parse the same JSON). */
export function passthroughTarget(url: string, key: string, pid: number): Target {
  const FRAME_TYPE = "assistantResponseEvent";
  return {
    name: "raw passthrough",
    pid,
    send: (prompt, signal) =>
      fetch(url, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 32000, stream: true, messages: [{ role: "user", content: prompt }] }),
        signal,
      }),
    // The passthrough's body is binary; readBody hands it over as latin1 so byte offsets hold.
    firstText: (bytes) => {
      for (let o = 0; o + 4 <= bytes.length; ) {
        const len = ((bytes.charCodeAt(o) << 24) | (bytes.charCodeAt(o + 1) << 16) | (bytes.charCodeAt(o + 2) << 8) | bytes.charCodeAt(o + 3)) >>> 0;
        if (len < 16 || o + len > bytes.length) return false;
        if (bytes.slice(o, o + len).includes(FRAME_TYPE)) return true;
        o += len;
      }
      return false;
    },
    check: (body, frames) => {
      if (!body.includes(`${frames - 1} lorem`)) throw new Error("passthrough: the last text frame is missing");
    },
  };
}

/**
 * Sends one request and reads it to the end. Returns the time to its first text in ms, the number
 * of non-empty reads (about the number of writes the server made, unless the network merged
 * some), and the whole body when `keep` (warm-up checks); measured requests keep only what the first-text test
 * needs, so the client stays cheap and its own pace does not slow the server down. `sentAt` is
 * when it was sent, in wall-clock milliseconds comparable with other processes' (./stream-latency.ts).
 */
export async function timedRequest(t: Target, prompt: string, keep: boolean): Promise<{ firstTextMs: number; sentAt: number; body: string; reads: number }> {
  const binary = t.name === "raw passthrough";
  const t0 = performance.now();
  const r = await t.send(prompt);
  if (r.status !== 200) throw new Error(`${t.name}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
  const reader = r.body!.getReader();
  const decoder = new TextDecoder();
  let firstTextMs = -1;
  let text = "";
  let kept = "";
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (value) reads++;
    if (value && (firstTextMs < 0 || keep)) {
      const piece = binary ? Buffer.from(value).toString("latin1") : decoder.decode(value, { stream: true });
      if (firstTextMs < 0) {
        text += piece;
        if (t.firstText(text)) firstTextMs = performance.now() - t0;
      }
      if (keep) kept += piece;
    }
    if (done) break;
  }
  if (firstTextMs < 0) throw new Error(`${t.name}: no text in the answer`);
  return { firstTextMs, sentAt: performance.timeOrigin + t0, body: kept, reads };
}
