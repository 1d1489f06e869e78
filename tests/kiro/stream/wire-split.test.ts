/**
 * The fake must cut frames on the wire, not only inside its own ReadableStream: a chat answer
 * read from a raw TCP socket arrives in several reads, and some read ends inside a frame.
 * (Bun writes a body whose pull() never waits in one go; scenarioStream yields between chunks.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { refreshAccessToken } from "../../../src/kiro/auth";
import { buildKiroRequest } from "../../../src/kiro/request/build";
import { decodeKiroStream } from "../../../src/kiro/stream/decode";
import { type FakeKiro, startFakeKiro } from "../../fake-kiro/server";
import { textRequest } from "../../support/kiro";

let fake: FakeKiro;
beforeAll(async () => {
  fake = await startFakeKiro();
});
afterAll(() => fake.stop());

const request = (text: string) => textRequest(text);

/** Raw HTTP/1.1 POST; returns every socket read as it arrived. */
function rawPost(port: number, path: string, headers: Record<string, string>, body: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const reads: Buffer[] = [];
    const sock = connect(port, "127.0.0.1", () => {
      const head = Object.entries({ host: `127.0.0.1:${port}`, connection: "close", "content-length": String(Buffer.byteLength(body)), ...headers })
        .map(([k, v]) => `${k}: ${v}`)
        .join("\r\n");
      sock.write(`POST ${path} HTTP/1.1\r\n${head}\r\n\r\n${body}`);
    });
    sock.on("data", (d: Buffer) => reads.push(Buffer.from(d)));
    sock.on("end", () => resolve(reads));
    sock.on("error", reject);
  });
}

/**
 * De-chunks a `Transfer-Encoding: chunked` response and maps each socket read's end to an offset
 * in the decoded body, so read boundaries can be compared with frame boundaries.
 */
function dechunk(reads: Buffer[]): { head: string; body: Uint8Array; readEnds: number[] } {
  const raw = Buffer.concat(reads);
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, headEnd).toString("latin1");
  const bodyOffsetAt = new Int32Array(raw.length + 1); // raw offset → body bytes before it
  const body: number[] = [];
  let p = headEnd + 4;
  for (let i = 0; i <= p; i++) bodyOffsetAt[i] = 0;
  while (p < raw.length) {
    const lineEnd = raw.indexOf("\r\n", p);
    const size = Number.parseInt(raw.subarray(p, lineEnd).toString("latin1"), 16);
    for (let i = p; i < lineEnd + 2; i++) bodyOffsetAt[i + 1] = body.length;
    p = lineEnd + 2;
    if (size === 0) break;
    for (let i = 0; i < size; i++) {
      body.push(raw[p + i]!);
      bodyOffsetAt[p + i + 1] = body.length;
    }
    bodyOffsetAt[p + size + 1] = body.length;
    bodyOffsetAt[p + size + 2] = body.length;
    p += size + 2;
  }
  for (let i = p + 1; i <= raw.length; i++) bodyOffsetAt[i] = body.length;
  const readEnds: number[] = [];
  let rawEnd = 0;
  for (const r of reads) {
    rawEnd += r.length;
    if (rawEnd > headEnd + 4) readEnds.push(bodyOffsetAt[rawEnd]!);
  }
  return { head, body: Uint8Array.from(body), readEnds };
}

/** Offsets where event-stream frames start (each frame begins with its uint32 total length). */
function frameStarts(body: Uint8Array): Set<number> {
  const starts = new Set<number>();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let o = 0; o + 4 <= body.length; o += dv.getUint32(o)) starts.add(o);
  starts.add(body.length);
  return starts;
}

test("a fake chat answer reaches a raw socket in many reads, some ending inside a frame", async () => {
  const refreshToken = "aorAwire".padEnd(120, "w");
  fake.addAccount({ refreshToken });
  const r = await refreshAccessToken({ kind: "social", refreshToken, authRegion: "us-east-1", machineId: "d".repeat(64) }, fake.upstream);
  const body = JSON.stringify(buildKiroRequest(request("split me [[fake:long:60]]"), { profileArn: r.profileArn }).body);

  const reads = await rawPost(Number(new URL(fake.url).port), "/generateAssistantResponse", {
    authorization: `Bearer ${r.accessToken}`,
    "content-type": "application/json",
  }, body);
  const { head, body: payload, readEnds } = dechunk(reads);
  expect(head).toStartWith("HTTP/1.1 200");
  expect(head.toLowerCase()).toContain("transfer-encoding: chunked");

  const starts = frameStarts(payload);
  expect(starts.size).toBeGreaterThan(60); // 60 text frames + usage frames
  const insideFrame = readEnds.filter((o) => o > 0 && o < payload.length && !starts.has(o));
  // The body crossed the wire in many pieces, and the network cut frames apart.
  expect(readEnds.length).toBeGreaterThan(10);
  expect(insideFrame.length).toBeGreaterThan(5);

  // And the bytes are still a valid stream: decoding them gives the 60 deltas.
  const events = [];
  for await (const e of decodeKiroStream(
    (async function* () {
      yield payload;
    })(),
    { restoreToolName: (n) => n },
  )) events.push(e);
  expect(events.filter((e) => e.type === "text").length).toBe(60);
  expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
});
