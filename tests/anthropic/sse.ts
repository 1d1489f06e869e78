/**
 * A strict SSE reader for the raw-wire tests (the A checks of docs/wire-checks.md): nothing is tolerated
 * silently, unlike the SDK parsers.
 */
import { expect } from "bun:test";

export type SseEvent = { event: string; data: any; raw: string };

export function parseSse(body: string): SseEvent[] {
  expect(body.endsWith("\n\n")).toBe(true);
  const out: SseEvent[] = [];
  for (const raw of body.split("\n\n").slice(0, -1)) {
    const lines = raw.split("\n");
    const ev = lines.filter((l) => l.startsWith("event: "));
    const data = lines.filter((l) => l.startsWith("data: "));
    expect(ev.length).toBe(1);
    expect(data.length).toBe(1);
    expect(lines.length).toBe(2);
    const parsed = JSON.parse(data[0]!.slice(6));
    const name = ev[0]!.slice(7);
    expect(parsed.type).toBe(name);
    out.push({ event: name, data: parsed, raw });
  }
  return out;
}

const STANDARD = new Set(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error"]);
const STOP_REASONS = new Set(["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"]);
const DELTA_FOR: Record<string, string[]> = {
  text: ["text_delta"],
  tool_use: ["input_json_delta"],
  thinking: ["thinking_delta", "signature_delta"],
};

/** Asserts A2–A9 on a complete successful stream; returns the events without pings. */
export function assertConformantStream(events: SseEvent[]): SseEvent[] {
  for (const e of events) expect(STANDARD.has(e.event)).toBe(true);
  const ev = events.filter((e) => e.event !== "ping");
  expect(ev[0]!.event).toBe("message_start");
  const m = ev[0]!.data.message;
  expect(m.content).toEqual([]);
  expect(m.stop_reason).toBeNull();
  expect(typeof m.usage.input_tokens).toBe("number");
  expect(ev.filter((e) => e.event === "message_start").length).toBe(1);
  expect(ev.filter((e) => e.event === "message_stop").length).toBe(1);
  expect(ev.at(-1)!.event).toBe("message_stop");
  expect(ev.filter((e) => e.event === "message_delta").length).toBe(1);
  const md = ev.at(-2)!;
  expect(md.event).toBe("message_delta");
  expect(STOP_REASONS.has(md.data.delta.stop_reason)).toBe(true);
  expect(typeof md.data.usage.output_tokens).toBe("number");

  let next = 0;
  let open: { index: number; type: string; json: string } | null = null;
  for (const e of ev.slice(1, -2)) {
    if (e.event === "content_block_start") {
      expect(open).toBeNull();
      expect(e.data.index).toBe(next++);
      const b = e.data.content_block;
      open = { index: e.data.index, type: b.type, json: "" };
      if (b.type === "tool_use") expect(b.input).toEqual({});
      if (b.type === "text") expect(b.text).toBe("");
      if (b.type === "thinking") expect(b).toMatchObject({ thinking: "", signature: "" });
    } else if (e.event === "content_block_delta") {
      expect(open).not.toBeNull();
      expect(e.data.index).toBe(open!.index);
      expect(DELTA_FOR[open!.type]).toContain(e.data.delta.type);
      if (e.data.delta.type === "input_json_delta") open!.json += e.data.delta.partial_json;
    } else if (e.event === "content_block_stop") {
      expect(open).not.toBeNull();
      expect(e.data.index).toBe(open!.index);
      if (open!.type === "tool_use") {
        const input = open!.json === "" ? {} : JSON.parse(open!.json);
        expect(typeof input).toBe("object");
      }
      open = null;
    } else {
      throw new Error(`unexpected ${e.event} inside the message`);
    }
  }
  expect(open).toBeNull();
  return ev;
}
