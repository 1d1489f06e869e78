/**
 * Counts the SQL statements a client sends to PostgreSQL, exactly and at once, by standing between
 * them as a TCP relay and reading the client's side of the wire protocol (bench/cluster.ts puts it
 * in front of the PostgreSQL-mode kiro-server). PostgreSQL's own counters (pg_stat_database) are
 * flushed by each backend only every second or, when it goes idle, up to ten seconds later, so
 * they cannot be cut at a measured window's edges; pg_stat_statements needs a server restart with
 * a preloaded library.
 *
 *   PGC_TARGET=127.0.0.1:5432 [PGC_DELAY_MS=5] bun bench/lib/pg-wire-count.ts
 *
 * Prints one JSON line {port, statsUrl} once listening: connect to 127.0.0.1:<port> instead of the
 * server; GET statsUrl answers {total, byKind}: every statement executed so far (a simple-protocol
 * Query message, or an Execute of the extended protocol, named by the Parse/Bind before it), counted
 * by kind, e.g. "UPDATE accounts", "SELECT accounts", "INSERT request_log", "LISTEN".
 * Bytes are relayed untouched in both directions; an encrypted session (the server answering an
 * SSLRequest with 'S') is relayed but not counted. PGC_DELAY_MS holds every answer of the
 * server back that long (in order): a database that far away, to show whether a caller waits on it.
 */
import { createConnection, createServer, type Socket } from "node:net";

const [host, portText] = (process.env.PGC_TARGET ?? "").split(":");
if (!host || !portText) throw new Error("PGC_TARGET=host:port is required");
const delayMs = Number(process.env.PGC_DELAY_MS ?? 0);

/** "UPDATE accounts", "INSERT request_log", "SELECT accounts", "BEGIN", "LISTEN"… */
function kindOf(sqlText: string): string {
  const text = sqlText.replace(/--[^\n]*\n/g, " ").trim();
  const verb = (/^[a-z]+/i.exec(text)?.[0] ?? "?").toUpperCase();
  const table = /\b(?:into|update|from)\s+(?:"?\w+"?\.)?"?(\w+)"?/i.exec(text)?.[1];
  if (verb === "SELECT" && /pg_notify\s*\(/i.test(text)) return "SELECT pg_notify";
  return table && ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].includes(verb) ? `${verb} ${table}` : verb;
}

/** Statements seen on every connection, by kind. */
class StatementCounts {
  total = 0;
  readonly byKind = new Map<string, number>();

  add(sqlText: string): void {
    this.total++;
    const k = kindOf(sqlText);
    this.byKind.set(k, (this.byKind.get(k) ?? 0) + 1);
  }
}

/** NUL-terminated string at `at`; returns it and the offset after its NUL. */
function cstr(b: Buffer, at: number): [string, number] {
  const end = b.indexOf(0, at);
  return end < 0 ? [b.toString("utf8", at), b.length] : [b.toString("utf8", at, end), end + 1];
}

/** One client connection's side of the protocol: startup packets first, then typed messages. */
class ClientStream {
  private buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  private started = false;
  /** Prepared statement name → its SQL; portal name → the SQL bound to it. */
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, string>();
  encrypted = false;

  constructor(private readonly counts: StatementCounts) {}

  feed(chunk: Buffer): void {
    if (this.encrypted) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.started) {
        if (this.buf.length < 8) return;
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < len) return;
        const code = this.buf.readInt32BE(4);
        // SSLRequest / GSSENCRequest come before the real startup message.
        if (code !== 80877103 && code !== 80877104) this.started = true;
        this.buf = this.buf.subarray(len);
        continue;
      }
      if (this.buf.length < 5) return;
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < 1 + len) return;
      this.message(String.fromCharCode(this.buf[0]!), this.buf.subarray(5, 1 + len));
      this.buf = this.buf.subarray(1 + len);
    }
  }

  private message(type: string, body: Buffer): void {
    if (type === "Q") this.counts.add(cstr(body, 0)[0]);
    else if (type === "P") {
      const [name, at] = cstr(body, 0);
      this.statements.set(name, cstr(body, at)[0]);
    } else if (type === "B") {
      const [portal, at] = cstr(body, 0);
      this.portals.set(portal, this.statements.get(cstr(body, at)[0]) ?? "?");
    } else if (type === "E") this.counts.add(this.portals.get(cstr(body, 0)[0]) ?? "?");
  }
}

const counts = new StatementCounts();
const server = createServer((client: Socket) => {
  const stream = new ClientStream(counts);
  const upstream = createConnection({ host, port: Number(portText) });
  let first = true;
  upstream.on("data", (chunk: Buffer) => {
    // The answer to an SSLRequest is one byte: 'S' means TLS follows, which cannot be read here.
    if (first && chunk.length === 1 && chunk[0] === 0x53) stream.encrypted = true;
    first = false;
  });
  client.on("data", (chunk: Buffer) => stream.feed(chunk));
  client.pipe(upstream);
  // Timers of equal delay fire in the order they were set, so the answers stay in order.
  if (delayMs > 0) upstream.on("data", (chunk: Buffer) => setTimeout(() => client.writable && client.write(chunk), delayMs));
  else upstream.pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
});

await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const stats = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => Response.json({ total: counts.total, byKind: Object.fromEntries(counts.byKind) }),
});
const address = server.address();
console.log(JSON.stringify({ port: typeof address === "object" && address ? address.port : 0, statsUrl: `http://127.0.0.1:${stats.port}/` }));
process.on("SIGTERM", () => {
  server.close();
  stats.stop(true);
  process.exit(0);
});
