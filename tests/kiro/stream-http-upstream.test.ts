/**
 * The socket client over TLS (certificate and host name verified, NODE_EXTRA_CA_CERTS honoured),
 * and upstreamFetchHeld choosing between it and fetch (error answers, the headers timeout, proxies).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { upstreamFetchHeld } from "../../src/kiro/http";
import { KiroError } from "../../src/kiro/errors";
import { ok, POST, socketFixture } from "./stream-http-helpers";

const { cleanups, client, server } = socketFixture();

describe("TLS", () => {
  const dir = join(import.meta.dir, "../fixtures/tls");
  const tlsServer = () => {
    const srv = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: Bun.file(join(dir, "localhost-cert.pem")), key: Bun.file(join(dir, "localhost-key.pem")) },
      fetch: () => new Response("over tls"),
    });
    cleanups.push(() => srv.stop(true));
    return srv;
  };

  test("an untrusted certificate is refused, classified like fetch's refusal", async () => {
    const srv = tlsServer();
    const err = await upstreamFetchHeld(`https://localhost:${srv.port}/x`, { ...POST, http: client(), source: "chat" }).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KiroError);
    expect(err.cls).toBe("endpoint_unavailable");
    expect(err.upstreamMessage).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  test("trusted through NODE_EXTRA_CA_CERTS it works, and a certificate for another name is still refused", async () => {
    const srv = tlsServer();
    const script = `
      import { StreamHttpClient } from ${JSON.stringify(join(import.meta.dir, "../../src/kiro/stream-http.ts"))};
      const c = new StreamHttpClient();
      const out = [];
      for (const host of ["localhost", "127.0.0.1"]) {
        try {
          const r = await c.request("https://" + host + ":${srv.port}/x", { method: "GET", headers: {} });
          let s = ""; for await (const b of r.body) s += b.bytes.toString("utf8", 0, b.end);
          out.push(host + " " + r.status + " " + s);
        } catch (e) { out.push(host + " refused " + e.code); }
      }
      c.close();
      console.log(JSON.stringify(out));`;
    const p = Bun.spawn([process.execPath, "-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "localhost-cert.pem") }, stdout: "pipe", stderr: "pipe" });
    const [out, errText] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()];
    expect(await p.exited, errText).toBe(0);
    expect(JSON.parse(out)).toEqual(["localhost 200 over tls", "127.0.0.1 refused ERR_TLS_CERT_ALTNAME_INVALID"]);
  });
});

describe("upstreamFetchHeld with the socket client", () => {
  test("an error answer is read whole for classification, headers included", async () => {
    const body = JSON.stringify({ message: "Too many requests", __type: "ThrottlingException" });
    const srv = server((s) => s.write(`HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-length: ${body.length}\r\n\r\n${body}`));
    const { res, chunks, release } = await upstreamFetchHeld(srv.url, { ...POST, http: client(), source: "chat" });
    release();
    expect(chunks).toBeUndefined();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.text()).toBe(body);
  });

  test("a compressed error answer is decoded for classification", async () => {
    const body = JSON.stringify({ message: "Too many requests", __type: "ThrottlingException" });
    const gz = gzipSync(body);
    const srv = server((s) => {
      s.write(`HTTP/1.1 429 Too Many Requests\r\ncontent-encoding: gzip\r\ncontent-length: ${gz.length}\r\n\r\n`);
      s.write(gz);
    });
    const { res, release } = await upstreamFetchHeld(srv.url, { ...POST, http: client(), source: "chat" });
    release();
    expect(res.status).toBe(429);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(await res.text()).toBe(body);
  });

  test("a compressed 200 stream is refused with a message naming the encoding and the switch, and its connection is dropped", async () => {
    const gz = gzipSync("event stream bytes");
    const srv = server((s) => {
      // A stream still under way: its connection cannot be reused and must go.
      s.write(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n${gz.length.toString(16)}\r\n`);
      s.write(gz);
      s.write("\r\n");
    });
    const err = await upstreamFetchHeld(srv.url, { ...POST, http: client(), source: "chat" }).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KiroError);
    expect(err.cls).toBe("transient");
    expect(err.upstreamMessage).toContain('content-encoding "gzip"');
    expect(err.upstreamMessage).toContain("KIRO_UPSTREAM_HTTP=fetch");
    await srv.closedCount(1);
  });

  test("no answer within the headers timeout is a transient timeout", async () => {
    const srv = server(() => {});
    const err = await upstreamFetchHeld(srv.url, { ...POST, http: client(), source: "chat", timeoutMs: 100 }).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KiroError);
    expect(err.cls).toBe("transient");
    expect(err.upstreamMessage).toContain("did not answer within 100 ms");
    await srv.closedCount(1);
  });

  test("with a proxy the request goes through fetch and the proxy, not the socket client", async () => {
    const seen: string[] = [];
    const proxy = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        seen.push(req.url);
        return new Response("via proxy");
      },
    });
    cleanups.push(() => proxy.stop(true));
    const srv = server((s) => s.write(ok("direct")));
    const { res, chunks, release } = await upstreamFetchHeld(srv.url, { ...POST, http: client(), proxy: `http://127.0.0.1:${proxy.port}`, source: "chat" });
    release();
    expect(chunks).toBeUndefined();
    expect(await res.text()).toBe("via proxy");
    expect(seen).toEqual([srv.url]);
    expect(srv.requests).toHaveLength(0);
  });
});
