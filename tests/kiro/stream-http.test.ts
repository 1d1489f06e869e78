/**
 * The chat stream's socket client (src/kiro/stream-http.ts) against real servers: Bun.serve for
 * ordinary answers, and a raw TCP server (Bun.listen) where the test decides every byte and every
 * close, for keep-alive, stale connections, cut-off bodies, back-pressure, aborts and large
 * requests. TLS and upstreamFetchHeld's use of it: stream-http-upstream.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { ok, POST, readAll, socketFixture } from "./stream-http-helpers";
import type { BodyRead } from "../../src/kiro/chunk-body";

const { cleanups, client, server } = socketFixture();

describe("StreamHttpClient", () => {
  test("a streamed chunked answer arrives whole, in order, even when read only after it all came in", async () => {
    const parts = Array.from({ length: 300 }, (_, i) => `part ${i};`);
    const srv = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          new ReadableStream({
            async start(c) {
              for (const p of parts) {
                c.enqueue(new TextEncoder().encode(p));
                await Bun.sleep(0);
              }
              c.close();
            },
          }),
        ),
    });
    cleanups.push(() => srv.stop(true));
    const res = await client().request(`http://127.0.0.1:${srv.port}/x`, POST);
    expect(res.status).toBe(200);
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    // Nothing is read until the server has sent everything: each read's bytes must still be intact.
    let sent = false;
    while (!sent) {
      await Bun.sleep(5);
      sent = srv.pendingRequests === 0;
    }
    expect(await readAll(res.body)).toBe(parts.join(""));
  });

  test("kept alive: sequential requests share one connection, and the request carries what was asked", async () => {
    const srv = server((s, req) => s.write(ok(`answer ${req.nth}`)));
    const c = client();
    for (let i = 1; i <= 3; i++) {
      const res = await c.request(srv.url, { method: "POST", headers: { "content-type": "application/json", "x-test": "yes" }, body: '{"q":"ü"}' });
      expect(await readAll(res.body)).toBe(`answer ${i}`);
    }
    expect(srv.requests.map((r) => r.conn)).toEqual([1, 1, 1]);
    const head = srv.requests[0]!.head;
    expect(head).toStartWith("POST /generateAssistantResponse HTTP/1.1\r\n");
    expect(head).toContain("x-test: yes");
    expect(head).toContain("accept-encoding: identity");
    expect(srv.requests[0]!.body).toBe('{"q":"ü"}');
  });

  test("a kept-alive connection the upstream dropped is not an error: the request goes out again on a new one", async () => {
    // The second request on a connection finds it closed without an answer (a stale keep-alive).
    const srv = server((s, req) => (req.nth === 2 ? s.terminate() : s.write(ok(`from ${req.conn}`))));
    const c = client();
    expect(await readAll((await c.request(srv.url, POST)).body)).toBe("from 1");
    expect(await readAll((await c.request(srv.url, POST)).body)).toBe("from 2");
    expect(srv.requests.map((r) => [r.conn, r.nth])).toEqual([[1, 1], [1, 2], [2, 1]]);
  });

  test("a connection closed mid-answer fails the body with ECONNRESET and is not reused", async () => {
    const srv = server((s, req) => {
      if (req.conn === 1) {
        s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
        setTimeout(() => s.terminate(), 5);
      } else s.write(ok("fresh"));
    });
    const c = client();
    const res = await c.request(srv.url, POST);
    const err = await readAll(res.body).then(() => undefined, (e) => e);
    expect(err?.code).toBe("ECONNRESET");
    expect(await readAll((await c.request(srv.url, POST)).body)).toBe("fresh");
    expect(srv.requests.at(-1)!.conn).toBe(2);
  });

  test("a close-delimited body ends at the close; a content-length body at its length", async () => {
    const srv = server((s, req) => {
      if (req.conn === 1) {
        s.write("HTTP/1.1 200 OK\r\n\r\nuntil the end");
        s.end();
      } else s.write(ok("exact"));
    });
    const c = client();
    expect(await readAll((await c.request(srv.url, POST)).body)).toBe("until the end");
    expect(await readAll((await c.request(srv.url, POST)).body)).toBe("exact");
  });

  test("a header value with a line break is refused before anything is sent", async () => {
    const srv = server((s) => s.write(ok("should not be asked")));
    const req = { ...POST, headers: { authorization: "Bearer x\r\nx-injected: 1" } };
    await expect(client().request(srv.url, req)).rejects.toThrow("contains a line break");
    expect(srv.requests).toHaveLength(0);
  });

  test("interim 1xx answers are skipped", async () => {
    const srv = server((s) => s.write(`HTTP/1.1 100 Continue\r\n\r\n${ok("after continue")}`));
    const res = await client().request(srv.url, POST);
    expect(res.status).toBe(200);
    expect(await readAll(res.body)).toBe("after continue");
  });

  test("a request body far larger than the socket buffer is sent whole", async () => {
    const big = JSON.stringify({ text: "x".repeat(8 * 1024 * 1024) });
    const srv = server((s, req) => s.write(ok(String(req.body.length))));
    const res = await client().request(srv.url, { ...POST, body: big });
    expect(await readAll(res.body)).toBe(String(big.length));
  });

  test("a reader that falls behind pauses the socket: the upstream meets back-pressure, nothing piles up, and the answer still arrives whole", async () => {
    const TOTAL = 48 * 1024 * 1024;
    const MAX = 64 * 1024;
    const piece = Buffer.alloc(64 * 1024);
    for (let i = 0; i < piece.length; i++) piece[i] = i % 251;
    // Writes the answer as fast as the socket takes it; `blocked` wakes the test when a write is refused.
    const up = { sent: 0, blocked: 0, waiters: [] as Array<() => void> };
    const pump = (s: Socket<undefined>) => {
      while (up.sent < TOTAL) {
        const at = up.sent % piece.length;
        const chunk = piece.subarray(at, Math.min(piece.length, at + TOTAL - up.sent));
        const n = s.write(chunk);
        up.sent += Math.max(0, n);
        if (n < chunk.length) {
          // What was not taken is written again from `sent` on the drain.
          up.blocked++;
          up.waiters.splice(0).forEach((w) => w());
          return;
        }
      }
    };
    let served = 0;
    const listener = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(s, d) {
          if (!d.includes("\r\n\r\n")) return;
          if (++served === 1) {
            s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\n\r\n`);
            pump(s);
          } else s.write(ok("again"));
        },
        drain: (s) => pump(s),
      },
    });
    cleanups.push(() => listener.stop(true));
    const url = `http://127.0.0.1:${listener.port}/x`;
    const c = client({ maxBufferedBytes: MAX });
    const res = await c.request(url, POST);
    const it = res.body;
    let got = 0;
    let bad = -1;
    const check = ({ bytes: b, end }: BodyRead) => {
      for (let i = 0; i < end; i++) if (b[i] !== (got + i) % piece.length % 251 && bad < 0) bad = got + i;
      got += end;
    };
    const first = await it.next();
    check(first.value as BodyRead);
    // The reader now stops. Once the upstream's writes are refused, let the event loop run on: an
    // unpaused socket would keep draining the kernel's buffers into this process.
    while (up.blocked === 0) await new Promise<void>((r) => up.waiters.push(r));
    for (let turn = 0; turn < 50; turn++) await new Promise<void>((r) => setTimeout(r, 0));
    expect(res.body.buffered).toBeLessThanOrEqual(MAX + 1024 * 1024);
    expect(up.sent).toBeLessThan(TOTAL);
    for (let r = await it.next(); !r.done; r = await it.next()) check(r.value);
    expect(got).toBe(TOTAL);
    expect(bad).toBe(-1);
    // Reading resumed, and the connection went back to the pool in a state that serves the next request.
    const again = await c.request(url, POST);
    expect(await readAll(again.body)).toBe("again");
    expect(served).toBe(2);
  });

  test("an answer that comes before the whole request went out does not leave its connection for reuse", async () => {
    // Answers on the first bytes of each connection, without reading the request body.
    let conns = 0;
    const seen: number[] = [];
    const listener = Bun.listen<{ id: number; answered: boolean }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { id: ++conns, answered: false };
        },
        data(s) {
          if (s.data.answered) return;
          s.data.answered = true;
          seen.push(s.data.id);
          s.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\n\r\ntoo big!`);
        },
      },
    });
    cleanups.push(() => listener.stop(true));
    const url = `http://127.0.0.1:${listener.port}/x`;
    const c = client();
    const first = await c.request(url, { ...POST, body: "x".repeat(16 * 1024 * 1024) });
    expect(first.status).toBe(413);
    expect(await readAll(first.body)).toBe("too big!");
    const second = await c.request(url, POST);
    expect(second.status).toBe(413);
    expect(seen).toEqual([1, 2]);
  });

  test("abort before the head rejects with the reason; abort mid-body fails the read; both close the connection", async () => {
    const srv = server((s, req) => {
      if (req.conn === 2) s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
    });
    const c = client();
    const a = new AbortController();
    const pending = c.request(srv.url, { ...POST, signal: a.signal });
    while (srv.requests.length < 1) await Bun.sleep(1);
    a.abort(new Error("client went away"));
    await expect(pending).rejects.toThrow("client went away");
    await srv.closedCount(1);

    const b = new AbortController();
    const res = await c.request(srv.url, { ...POST, signal: b.signal });
    const it = res.body[Symbol.asyncIterator]();
    const read = (await it.next()).value as BodyRead;
    expect(read.bytes.toString("utf8", 0, read.end)).toBe("hello");
    const next = it.next();
    b.abort(new Error("stop"));
    await expect(next).rejects.toThrow("stop");
    await srv.closedCount(2);
  });

  test("close() drops every idle connection", async () => {
    const srv = server((s) => s.write(ok("x")));
    const c = client();
    // Three at once, so three connections, all idle afterwards.
    const answers = await Promise.all([1, 2, 3].map(() => c.request(srv.url, POST)));
    await Promise.all(answers.map((a) => readAll(a.body)));
    expect(new Set(srv.requests.map((r) => r.conn)).size).toBe(3);
    c.close();
    await srv.closedCount(3);
  });

  test("an idle kept-alive connection is closed after idleSeconds", async () => {
    const srv = server((s) => s.write(ok("x")));
    await readAll((await client({ idleSeconds: 1 }).request(srv.url, POST)).body);
    await srv.closedCount(1);
    expect(srv.closed).toEqual([1]);
  });
});
