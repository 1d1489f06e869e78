import { expect } from "bun:test";

/**
 * Strict SSE reader for OpenAI streams (the O checks of docs/wire-checks.md): nothing is silently tolerated.
 * Returns the data values in order ("[DONE]" kept as a string) and the comment lines seen.
 */
export function parseOpenAISse(text: string): { data: Array<any>; comments: string[]; raw: string[] } {
  expect(text.endsWith("\n\n")).toBe(true);
  const blocks = text.slice(0, -2).split("\n\n");
  const data: any[] = [];
  const comments: string[] = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    const dataLines: string[] = [];
    for (const line of lines) {
      if (line.startsWith(":")) comments.push(line);
      else if (line.startsWith("data: ")) dataLines.push(line.slice(6));
      else throw new Error(`unexpected SSE line (no event: names allowed on the OpenAI side): ${JSON.stringify(line)}`);
    }
    if (dataLines.length === 0) continue; // comment-only block (keep-alive)
    expect(dataLines).toHaveLength(1);
    const d = dataLines[0]!;
    expect(d.length).toBeGreaterThan(0);
    data.push(d === "[DONE]" ? d : JSON.parse(d));
  }
  return { data, comments, raw: blocks };
}

/** O3–O8 for a successful stream; returns the chunks (without [DONE]). */
export function assertConformantStream(text: string, opts: { includeUsage: boolean }): any[] {
  const { data } = parseOpenAISse(text);
  expect(data[data.length - 1]).toBe("[DONE]");
  const chunks = data.slice(0, -1);
  expect(chunks.includes("[DONE]")).toBe(false);
  const first = chunks[0];
  for (const c of chunks) {
    expect(c.object).toBe("chat.completion.chunk");
    expect(c.id).toBe(first.id);
    expect(c.created).toBe(first.created);
    expect(c.model).toBe(first.model);
    expect(Array.isArray(c.choices)).toBe(true);
  }
  expect(first.choices[0].delta.role).toBe("assistant");
  const finishIdx = chunks.findIndex((c) => c.choices[0] && c.choices[0].finish_reason !== null);
  expect(finishIdx).toBeGreaterThan(0);
  expect(chunks[finishIdx].choices[0].delta).toEqual({});
  for (const c of chunks.slice(0, finishIdx)) expect(c.choices[0].finish_reason).toBeNull();
  const seen = new Set<number>();
  for (const c of chunks) {
    for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
      if (!seen.has(tc.index)) {
        seen.add(tc.index);
        expect(tc.type).toBe("function");
        expect(typeof tc.id).toBe("string");
        expect(typeof tc.function.name).toBe("string");
        expect(typeof tc.function.arguments).toBe("string");
      } else {
        expect(Object.keys(tc).sort()).toEqual(["function", "index"]);
        expect(Object.keys(tc.function)).toEqual(["arguments"]);
      }
    }
  }
  if (opts.includeUsage) {
    expect(chunks.length).toBe(finishIdx + 2);
    const u = chunks[finishIdx + 1];
    expect(u.choices).toEqual([]);
    expect(typeof u.usage.prompt_tokens).toBe("number");
    expect(u.usage.total_tokens).toBe(u.usage.prompt_tokens + u.usage.completion_tokens);
    for (const c of chunks.slice(0, finishIdx + 1)) expect(c.usage).toBeNull();
  } else {
    expect(chunks.length).toBe(finishIdx + 1);
    for (const c of chunks) expect(c.usage).toBeUndefined();
  }
  return chunks;
}

/** Arguments per tool index, concatenated. */
export function toolArgs(chunks: any[]): Record<number, { id: string; name: string; args: string }> {
  const out: Record<number, { id: string; name: string; args: string }> = {};
  for (const c of chunks) {
    for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
      out[tc.index] ??= { id: tc.id, name: tc.function.name, args: "" };
      out[tc.index]!.args += tc.function.arguments ?? "";
    }
  }
  return out;
}

export const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
