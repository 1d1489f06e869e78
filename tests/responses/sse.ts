import { expect } from "bun:test";

/** One parsed SSE event of a Responses stream. */
export type SseEvent = { event?: string; data: any };

/** Splits an SSE body into events; comments (keep-alives) are returned separately. */
export function parseSse(text: string): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    if (!block.trim()) continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comments.push(line);
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length) {
      const raw = data.join("\n");
      expect(raw.trim()).not.toBe("");
      events.push({ event, data: JSON.parse(raw) });
    }
  }
  return { events, comments };
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);
const DELTA = /\.delta$/;

/**
 * The stream rules real clients depend on: `event:` = `type`; `sequence_number` 0, 1, 2 …;
 * `response.created` first; each output_index announced by `output_item.added` before any event
 * of it and closed by exactly one `output_item.done`; parts announced before their deltas;
 * `item_id` on every delta; exactly one terminal event, last, whose `response.output` equals the
 * `output_item.done` items; integer usage with total = input + output.
 * Returns the terminal event's response.
 */
export function assertConformant(events: SseEvent[]): any {
  expect(events.length).toBeGreaterThan(2);
  events.forEach((e, i) => {
    expect(e.event).toBe(e.data.type);
    expect(e.data.sequence_number).toBe(i);
  });
  expect(events[0]!.data.type).toBe("response.created");
  expect(events[1]!.data.type).toBe("response.in_progress");
  const added = new Map<number, string>();
  const done = new Map<number, any>();
  const parts = new Set<string>();
  for (const { data } of events) {
    const t: string = data.type;
    if (t === "response.output_item.added") {
      expect(added.has(data.output_index)).toBe(false);
      added.set(data.output_index, data.item.id);
      continue;
    }
    if (t === "response.output_item.done") {
      expect(added.get(data.output_index)).toBe(data.item.id);
      expect(done.has(data.output_index)).toBe(false);
      done.set(data.output_index, data.item);
      continue;
    }
    if (data.output_index !== undefined) {
      expect(added.has(data.output_index)).toBe(true);
      expect(done.has(data.output_index)).toBe(false);
      expect(data.item_id).toBe(added.get(data.output_index));
    }
    if (t === "response.content_part.added" || t === "response.reasoning_summary_part.added") parts.add(`${data.item_id}:${data.content_index ?? data.summary_index}`);
    if (t === "response.output_text.delta") expect(parts.has(`${data.item_id}:${data.content_index}`)).toBe(true);
    if (t === "response.reasoning_summary_text.delta") expect(parts.has(`${data.item_id}:${data.summary_index}`)).toBe(true);
    if (DELTA.test(t)) expect(typeof data.item_id).toBe("string");
  }
  expect([...added.keys()].sort()).toEqual([...done.keys()].sort());
  const terminals = events.filter((e) => TERMINAL.has(e.data.type));
  expect(terminals).toHaveLength(1);
  const last = events.at(-1)!.data;
  expect(TERMINAL.has(last.type)).toBe(true);
  const r = last.response;
  expect(typeof r.id).toBe("string");
  expect(r.output).toEqual([...done.keys()].sort((a, b) => a - b).map((k) => done.get(k)));
  if (r.usage) {
    for (const k of ["input_tokens", "output_tokens", "total_tokens"]) expect(Number.isInteger(r.usage[k])).toBe(true);
    expect(r.usage.total_tokens).toBe(r.usage.input_tokens + r.usage.output_tokens);
  }
  return r;
}
