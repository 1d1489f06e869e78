import { describe, expect, test } from "bun:test";
import { releasingBody, UpstreamQueueTimeout, UpstreamSlots } from "../../src/kiro/slots";
import { bunFetchLimit } from "../../src/kiro/fetch-limit";

describe("UpstreamSlots", () => {
  test("grants up to max at once, queues the rest in order, hands over on release, logs one busy spell", async () => {
    const events: string[] = [];
    const s = new UpstreamSlots(2, 5_000, { busy: ({ open, max }) => events.push(`busy ${open}/${max}`), drained: ({ waited }) => events.push(`drained ${waited}`) });
    const a = s.acquire();
    const b = s.acquire();
    expect(typeof a).toBe("function");
    expect(typeof b).toBe("function");
    const order: string[] = [];
    const c = (s.acquire() as Promise<() => void>).then((r) => (order.push("c"), r));
    const d = (s.acquire() as Promise<() => void>).then((r) => (order.push("d"), r));
    expect(s.stats()).toMatchObject({ open: 2, queued: 2, waitedTotal: 2 });
    (a as () => void)();
    (a as () => void)(); // releasing twice frees one slot only
    const rc = await c;
    expect(order).toEqual(["c"]);
    expect(s.stats()).toMatchObject({ open: 2, queued: 1 });
    (b as () => void)();
    const rd = await d;
    expect(order).toEqual(["c", "d"]);
    rc();
    rd();
    expect(s.stats()).toMatchObject({ open: 0, queued: 0, peakOpen: 2 });
    expect(events).toEqual(["busy 2/2", "drained 2"]);
  });

  test("a waiter gives up after queueTimeoutMs with UpstreamQueueTimeout; the caller's abort removes it", async () => {
    const s = new UpstreamSlots(1, 50);
    const held = s.acquire() as () => void;
    const t0 = performance.now();
    const err = await (s.acquire() as Promise<unknown>).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamQueueTimeout);
    expect((err as UpstreamQueueTimeout).cls).toBe("transient");
    expect((err as UpstreamQueueTimeout).upstreamMessage).toContain("KIRO_MAX_UPSTREAM_REQUESTS");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    const ac = new AbortController();
    const aborted = (s.acquire(ac.signal) as Promise<unknown>).catch((e) => e);
    ac.abort(new Error("client gone"));
    expect(String(await aborted)).toContain("client gone");
    expect(s.stats()).toMatchObject({ open: 1, queued: 0, timedOutTotal: 1 });
    held();
    expect(s.stats().open).toBe(0);
  });

  test("releasingBody gives the slot back when the body ends, fails or is cancelled", async () => {
    for (const how of ["end", "error", "cancel"] as const) {
      let released = 0;
      const src = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array([1, 2]));
          if (how === "end") c.close();
          if (how === "error") c.error(new Error("reset"));
        },
      });
      const body = releasingBody(src, () => released++);
      const reader = body.getReader();
      if (how === "cancel") {
        await reader.read();
        await reader.cancel();
      } else {
        try {
          for (let r = await reader.read(); !r.done; r = await reader.read());
        } catch {
          // the error is passed on to the reader
        }
      }
      expect(released).toBe(1);
    }
  });
});

test("bunFetchLimit reads BUN_CONFIG_MAX_HTTP_REQUESTS as Bun does (1-65535, else 256)", () => {
  expect(bunFetchLimit({})).toBe(256);
  expect(bunFetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" })).toBe(4096);
  expect(bunFetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: "0" })).toBe(256);
  expect(bunFetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: "70000" })).toBe(256);
  expect(bunFetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: "many" })).toBe(256);
});
