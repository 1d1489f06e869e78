/**
 * The chat stream's HTTP/1.1 client: requests over `Bun.connect` sockets (TLS for https, with the
 * certificate and host name verified as fetch does, NODE_EXTRA_CA_CERTS included), kept alive and
 * reused per origin.
 *
 * Why not fetch: Bun's fetch runs on its own HTTP thread and hands each network read to the
 * JavaScript thread through a ReadableStream; for a streamed answer (tens to hundreds of small
 * reads) bench/stream.ts measured that thread alone at 1.1–1.35 ms of CPU per 400-frame answer,
 * more than the whole relay's own work. Here each read is one call on the event loop's thread,
 * queued for the decoder. Used only where fetch would add nothing: no proxy, and answers we never
 * ask to be compressed (`accept-encoding: identity`).
 *
 * A reused connection the upstream closed while idle fails before any byte of its answer: such a
 * request is sent again once, on a new connection. Reading pauses while more than
 * `maxBufferedBytes` of the answer wait unread (a slow client holds the turn back), so the
 * upstream meets TCP back-pressure instead of the answer piling up in this process.
 */
import type { Socket } from "bun";
import { chunkBody, type BodyQueue, type ChunkBody } from "./chunk-body";
import { BodyReader, Http1Error, parseHead, type ResponseHead } from "./http1";

export type StreamHttpRequest = {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
};

export type { ChunkBody } from "./chunk-body";

export type StreamHttpResponse = { status: number; statusText: string; headers: Headers; body: ChunkBody };

export type StreamHttpOptions = {
  /** Seconds an idle kept-alive connection stays open (default 30). */
  idleSeconds?: number;
  /** Idle connections kept per origin (default 32). */
  maxIdlePerOrigin?: number;
  /** Unread answer bytes at which reading the socket pauses until the reader catches up (default 512 KiB). */
  maxBufferedBytes?: number;
};

type Origin = { key: string; hostname: string; port: number; tls: boolean };

export class StreamHttpClient {
  private readonly idle = new Map<string, Conn[]>();
  private readonly idleSeconds: number;
  private readonly maxIdle: number;
  /** @internal */
  readonly maxBuffered: number;

  constructor(opts: StreamHttpOptions = {}) {
    this.idleSeconds = opts.idleSeconds ?? 30;
    this.maxIdle = opts.maxIdlePerOrigin ?? 32;
    this.maxBuffered = opts.maxBufferedBytes ?? 512 * 1024;
  }

  /** Resolves once the answer's head is in; rejects with the network error (its `code` set). */
  async request(url: string, req: StreamHttpRequest): Promise<StreamHttpResponse> {
    const u = new URL(url);
    const tls = u.protocol === "https:";
    if (!tls && u.protocol !== "http:") throw new Http1Error(`unsupported URL scheme ${u.protocol}`);
    const origin: Origin = { key: `${u.protocol}//${u.host}`, hostname: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || (tls ? 443 : 80)), tls };
    let head = `${req.method} ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n`;
    for (const k in req.headers) {
      const v = req.headers[k]!;
      // A line break would end the header and start another (fetch refuses such a value too).
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Http1Error(`request header ${JSON.stringify(k)} contains a line break`);
      head += `${k}: ${v}\r\n`;
    }
    if (!("accept-encoding" in req.headers)) head += "accept-encoding: identity\r\n";
    const payload = Buffer.from(req.body === undefined ? `${head}\r\n` : `${head}content-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`);
    req.signal?.throwIfAborted();
    const reused = this.take(origin.key);
    if (reused) {
      try {
        return await reused.exchange(req.method, payload, req.signal);
      } catch (err) {
        // Closed by the upstream while idle, before any answer: not an answer, send it again.
        if (!(err instanceof StaleConnection)) throw err;
      }
    }
    req.signal?.throwIfAborted();
    const conn = await Conn.open(origin, this, req.signal);
    return await conn.exchange(req.method, payload, req.signal);
  }

  /** Drops every idle connection. */
  close(): void {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    for (const c of all) c.drop();
  }

  /** @internal A connection whose answer ended cleanly and may be reused. */
  park(c: Conn): void {
    const list = this.idle.get(c.origin.key) ?? [];
    if (list.length >= this.maxIdle) return c.drop();
    list.push(c);
    this.idle.set(c.origin.key, list);
    c.idleFor(this.idleSeconds);
  }

  /** @internal A connection closed: never hand it out again. */
  forget(c: Conn): void {
    const list = this.idle.get(c.origin.key);
    const i = list?.indexOf(c) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  private take(key: string): Conn | undefined {
    const list = this.idle.get(key);
    while (list?.length) {
      const c = list.pop()!;
      if (c.usable) return c;
    }
    return undefined;
  }
}

class StaleConnection extends Error {}

/** One answer in progress on a connection. */
type Exchange = BodyQueue & {
  method: string;
  resolveHead(r: StreamHttpResponse): void;
  rejectHead(e: unknown): void;
  headDone: boolean;
  gotBytes: boolean;
  /** Sent on a kept-alive connection: a close before any answer byte means it had gone stale. */
  reused: boolean;
  body?: BodyReader;
  onAbort?: () => void;
  signal?: AbortSignal;
};

class Conn {
  private socket: Socket<Conn> | undefined;
  private ex: Exchange | undefined;
  private buf: Buffer | undefined;
  private pending: Buffer | undefined;
  private closed = false;
  private used = false;
  private keepAlive = false;
  /** Reading is paused: the answer's reader is behind by more than the client's maxBuffered. */
  private paused = false;

  private constructor(
    readonly origin: Origin,
    private readonly client: StreamHttpClient,
  ) {}

  /** Connects (and, for https, completes the verified TLS handshake); `signal` gives up waiting. */
  static open(origin: Origin, client: StreamHttpClient, signal?: AbortSignal): Promise<Conn> {
    const c = new Conn(origin, client);
    return new Promise<Conn>((resolve, reject) => {
      let settled = false;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        if (err === undefined) return resolve(c);
        c.closed = true;
        reject(err);
      };
      const onAbort = () => {
        settle(signal!.reason ?? new DOMException("aborted", "AbortError"));
        if (c.socket) c.socket.terminate();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      Bun.connect<Conn>({
        hostname: origin.hostname,
        port: origin.port,
        data: c,
        tls: origin.tls ? { serverName: origin.hostname } : undefined,
        socket: {
          open(s) {
            c.socket = s;
            if (settled) return s.terminate();
            if (!origin.tls) settle();
          },
          handshake(s, ok, err) {
            if (ok) return settle();
            settle(err ?? Object.assign(new Error("TLS handshake failed"), { code: "TLSHandshakeFailed" }));
            s.terminate();
          },
          data: (_s, chunk) => c.onData(chunk),
          drain: () => c.flushPending(),
          close: (_s, err) => {
            settle(err ?? Object.assign(new Error("connection closed while connecting"), { code: "ECONNRESET" }));
            c.onClose(err);
          },
          error: (_s, err) => {
            settle(err);
            c.onClose(err);
          },
          timeout: (s) => s.terminate(),
        },
      }).catch((err) => settle(err));
    });
  }

  get usable(): boolean {
    return !this.closed && !this.ex;
  }

  idleFor(seconds: number): void {
    this.socket!.timeout(seconds);
    this.socket!.unref();
  }

  drop(): void {
    this.closed = true;
    this.client.forget(this);
    this.socket?.terminate();
  }

  exchange(method: string, payload: Buffer, signal?: AbortSignal): Promise<StreamHttpResponse> {
    const reused = this.used;
    this.used = true;
    this.socket!.timeout(0);
    this.socket!.ref();
    return new Promise<StreamHttpResponse>((resolveHead, rejectHead) => {
      const ex: Exchange = { method, resolveHead, rejectHead, headDone: false, gotBytes: false, reused, queue: [], queued: 0, ended: false, signal };
      this.ex = ex;
      if (signal) {
        ex.onAbort = () => this.fail(signal.reason ?? new DOMException("aborted", "AbortError"));
        signal.addEventListener("abort", ex.onAbort, { once: true });
      }
      this.write(payload);
    });
  }

  private write(b: Buffer): void {
    const n = this.socket!.write(b);
    if (n < b.length) this.pending = b.subarray(Math.max(0, n));
  }

  private flushPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.write(p);
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (!ex) {
      // Bytes nobody asked for: the connection is out of step, drop it.
      return this.drop();
    }
    ex.gotBytes = true;
    try {
      if (!ex.headDone) {
        let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
        this.buf = undefined;
        for (;;) {
          const parsed = parseHead(b, ex.method);
          if (!parsed) {
            this.buf = Buffer.from(b);
            return;
          }
          b = b.subarray(parsed.size);
          if (parsed.head.status >= 200) {
            this.startBody(ex, parsed.head);
            break;
          }
        }
        chunk = b;
        if (!chunk.length) return this.checkEnd(ex);
      }
      ex.body!.push(chunk, (bytes, end) => {
        ex.queue.push({ bytes, end });
        ex.queued += end;
      });
    } catch (err) {
      return this.fail(err);
    }
    if (ex.queued > this.client.maxBuffered && !this.paused && !ex.body!.done) {
      this.paused = true;
      this.socket!.pause();
    }
    this.checkEnd(ex);
    ex.wake?.();
  }

  /** The reader took everything queued: read the socket again if it was paused. */
  private caughtUp(ex: Exchange): void {
    ex.queued = 0;
    // An answer that already ended left the connection to the next request, which owns its pause.
    if (!this.paused || this.ex !== ex) return;
    this.paused = false;
    if (!this.closed) this.socket?.resume();
  }

  private startBody(ex: Exchange, head: ResponseHead): void {
    ex.headDone = true;
    ex.body = new BodyReader(head.framing);
    this.keepAlive = head.keepAlive;
    ex.resolveHead({ status: head.status, statusText: head.statusText, headers: head.headers, body: this.bodyOf(ex) });
  }

  /** The body finished: the connection goes back to the pool, or is closed. */
  private checkEnd(ex: Exchange): void {
    if (!ex.body?.done || ex.ended) return;
    ex.ended = true;
    this.finish(ex);
    // Reused only in step: the answer ended where it should, and our whole request went out (an
    // early answer, e.g. a 413 while the body is still being sent, leaves the connection mid-request).
    if (this.paused) {
      // The answer's last bytes came in a read already under way when reading paused.
      this.paused = false;
      this.socket?.resume();
    }
    if (this.keepAlive && !ex.body.rest && !this.pending && !this.closed) this.client.park(this);
    else this.drop();
    ex.wake?.();
  }

  private finish(ex: Exchange): void {
    if (ex.onAbort) ex.signal?.removeEventListener("abort", ex.onAbort);
    if (this.ex === ex) this.ex = undefined;
  }

  /** Ends the exchange in progress with `err` and closes the connection. */
  private fail(err: unknown): void {
    const ex = this.ex;
    if (ex && !ex.ended) {
      // Settled before the socket goes: its close callback must find nothing left to fail.
      ex.ended = true;
      ex.error = err;
      this.finish(ex);
      if (!ex.headDone) ex.rejectHead(err);
      ex.wake?.();
    }
    this.drop();
  }

  private onClose(err?: Error): void {
    if (this.closed && !this.ex) return;
    this.closed = true;
    this.client.forget(this);
    const ex = this.ex;
    if (!ex || ex.ended) return;
    if (ex.headDone && ex.body?.framing.kind === "close") {
      // A body delimited by the connection's close: this close is its end.
      ex.ended = true;
      this.finish(ex);
      ex.wake?.();
      return;
    }
    if (ex.reused && !ex.gotBytes) return this.fail(new StaleConnection(err?.message ?? "closed"));
    const e = err ?? Object.assign(new Error(ex.headDone ? "upstream closed the connection mid-answer" : "upstream closed the connection before answering"), { code: "ECONNRESET" });
    this.fail(e);
  }

  private bodyOf(ex: Exchange): ChunkBody {
    return chunkBody(ex, () => this.caughtUp(ex), (err) => this.fail(err));
  }
}
