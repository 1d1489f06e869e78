/**
 * Shared by the socket client's tests (stream-http.test.ts, stream-http-upstream.test.ts): a raw
 * HTTP/1.1 server (Bun.listen) where the test decides every byte and every close, and clients and
 * servers that are closed after each test.
 */
import { afterEach } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { StreamHttpClient } from "../../src/kiro/stream-http";
import type { BodyRead } from "../../src/kiro/chunk-body";

export type Req = { head: string; body: string; conn: number; nth: number };
export type RawConn = { id: number; buf: Buffer; served: number };

/** A raw HTTP/1.1 server: parses each request (content-length bodies) and hands it to `answer`. */
export function rawServer(answer: (s: Socket<RawConn>, req: Req) => void) {
  let ids = 0;
  const requests: Req[] = [];
  const closed: number[] = [];
  const closeWaiters: Array<() => void> = [];
  const listener: TCPSocketListener<RawConn> = Bun.listen<RawConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { id: ++ids, buf: Buffer.alloc(0), served: 0 };
      },
      data(s, chunk) {
        const c = s.data;
        c.buf = Buffer.concat([c.buf, chunk]);
        for (;;) {
          const end = c.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = c.buf.toString("latin1", 0, end);
          const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (c.buf.length < end + 4 + len) return;
          const req = { head, body: c.buf.toString("utf8", end + 4, end + 4 + len), conn: c.id, nth: ++c.served };
          c.buf = c.buf.subarray(end + 4 + len);
          requests.push(req);
          answer(s, req);
        }
      },
      close(s) {
        closed.push(s.data.id);
        closeWaiters.splice(0).forEach((w) => w());
      },
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}/generateAssistantResponse`,
    requests,
    closed,
    /** Resolves once `n` connections have closed. */
    async closedCount(n: number) {
      while (closed.length < n) await new Promise<void>((r) => closeWaiters.push(r));
    },
    stop: () => listener.stop(true),
  };
}

export const ok = (body: string) => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
export const POST = { method: "POST" as const, headers: { "content-type": "application/json" }, body: "{}" };

/** The body's text: each read's bytes up to its end. */
export async function readAll(body: AsyncIterable<BodyRead>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c.bytes.subarray(0, c.end));
  return Buffer.concat(parts).toString();
}

/**
 * Per test file: `client()` and `server()` are closed after each test, and so is anything passed
 * to `cleanups.push`.
 */
export function socketFixture() {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  const client = (opts?: ConstructorParameters<typeof StreamHttpClient>[0]) => {
    const c = new StreamHttpClient(opts);
    cleanups.push(() => c.close());
    return c;
  };
  const server = (answer: Parameters<typeof rawServer>[0]) => {
    const srv = rawServer(answer);
    cleanups.push(() => srv.stop());
    return srv;
  };
  return { cleanups, client, server };
}
