/**
 * The socket client's HTTP/1.1 response parser (src/kiro/http1.ts): heads, and bodies framed by
 * chunked encoding, content-length or the connection's close, fed in every possible split.
 */
import { describe, expect, test } from "bun:test";
import { BodyReader, Http1Error, MAX_HEAD_BYTES, parseHead } from "../../src/kiro/http1";

const b = (s: string) => Buffer.from(s, "latin1");

/** Feeds `wire` to a BodyReader in pieces of `step` bytes; returns the body and where it ended. */
function readBody(framing: ConstructorParameters<typeof BodyReader>[0], wire: Buffer, step: number) {
  const r = new BodyReader(framing);
  const out: Buffer[] = [];
  let doneAt = -1;
  for (let i = 0; i < wire.length; i += step) {
    if (r.push(wire.subarray(i, i + step), (d, end) => out.push(Buffer.from(d.subarray(0, end))))) {
      doneAt = i;
      break;
    }
  }
  return { body: Buffer.concat(out).toString("latin1"), done: r.done, rest: r.rest?.toString("latin1"), doneAt };
}

describe("parseHead", () => {
  test("waits for the whole head, then gives status, headers, framing and its size", () => {
    const head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nTransfer-Encoding: chunked\r\nx-amzn-requestid: abc\r\n\r\n";
    for (let cut = 0; cut < head.length; cut++) expect(parseHead(b(head.slice(0, cut)), "POST")).toBeUndefined();
    const p = parseHead(b(`${head}5\r\nhello`), "POST")!;
    expect(p.size).toBe(head.length);
    expect(p.head.status).toBe(200);
    expect(p.head.statusText).toBe("OK");
    expect(p.head.headers.get("x-amzn-requestid")).toBe("abc");
    expect(p.head.framing).toEqual({ kind: "chunked" });
    expect(p.head.keepAlive).toBe(true);
  });

  test("content-length, close-delimited, HTTP/1.0 and connection: close", () => {
    expect(parseHead(b("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 12\r\nretry-after: 3\r\n\r\n"), "POST")!.head).toMatchObject({
      status: 429,
      framing: { kind: "length", length: 12 },
      keepAlive: true,
    });
    expect(parseHead(b("HTTP/1.1 200 OK\r\n\r\n"), "POST")!.head).toMatchObject({ framing: { kind: "close" }, keepAlive: false });
    expect(parseHead(b("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n"), "POST")!.head.keepAlive).toBe(false);
    expect(parseHead(b("HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 1\r\n\r\n"), "POST")!.head.keepAlive).toBe(false);
    expect(parseHead(b("HTTP/1.1 204 No Content\r\n\r\n"), "POST")!.head.framing).toEqual({ kind: "length", length: 0 });
    expect(parseHead(b("HTTP/1.1 100 Continue\r\n\r\n"), "POST")!.head.status).toBe(100);
  });

  test("malformed or unsupported heads are errors, never guesses", () => {
    expect(() => parseHead(b("HTTP/2 200\r\n\r\n"), "POST")).toThrow(Http1Error);
    expect(() => parseHead(b("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "POST")).toThrow(/malformed header/);
    expect(() => parseHead(b("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n"), "POST")).toThrow(/transfer-encoding/);
    expect(() => parseHead(b("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"), "POST")).toThrow(/content-length/);
    expect(() => parseHead(b(`HTTP/1.1 200 OK\r\nx: ${"a".repeat(MAX_HEAD_BYTES)}`), "POST")).toThrow(/over 65536 bytes/);
  });
});

describe("BodyReader", () => {
  // Sizes, extensions and trailers as a server may send them; bytes after the body are a next answer.
  const chunked = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\nHTTP/1.1";

  test("chunked: the same body for every split, down to one byte at a time", () => {
    for (const step of [1, 2, 3, 7, 16, chunked.length]) {
      const r = readBody({ kind: "chunked" }, b(chunked), step);
      expect(r.body).toBe("hello 0123456789");
      expect(r.done).toBe(true);
      if (step === chunked.length) expect(r.rest).toBe("HTTP/1.1");
    }
  });

  test("chunked: a read carrying many chunks gives its body in one slice, framing removed", () => {
    const r = new BodyReader({ kind: "chunked" });
    const slices: string[] = [];
    expect(r.push(b("3\r\nabc\r\n2;x=y\r\nde\r\n1\r\nf\r\n"), (d, end) => slices.push(d.toString("latin1", 0, end)))).toBe(false);
    expect(r.push(b("2\r\ngh\r\n0\r\n\r\n"), (d, end) => slices.push(d.toString("latin1", 0, end)))).toBe(true);
    expect(slices).toEqual(["abcdef", "gh"]);
  });

  test("chunked: a bad size or a chunk overrunning its size fails", () => {
    expect(() => readBody({ kind: "chunked" }, b("zz\r\nhello\r\n"), 64)).toThrow(/bad chunk size/);
    expect(() => readBody({ kind: "chunked" }, b("3\r\nhello\r\n"), 64)).toThrow(/overran/);
  });

  test("chunked: a body cut off before its last chunk is not done", () => {
    expect(readBody({ kind: "chunked" }, b("5\r\nhello\r\n"), 4).done).toBe(false);
  });

  test("content-length: stops at the length, for every split", () => {
    for (const step of [1, 3, 64]) {
      const r = readBody({ kind: "length", length: 5 }, b("helloNEXT"), step);
      expect(r.body).toBe("hello");
      expect(r.done).toBe(true);
    }
  });

  test("close-delimited: everything is body, it never ends by itself", () => {
    const r = readBody({ kind: "close" }, b("all of it"), 2);
    expect(r.body).toBe("all of it");
    expect(r.done).toBe(false);
  });
});
