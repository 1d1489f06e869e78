/**
 * Hand-assembled SSE frames of the Responses stream (src/dialects/responses/builder.ts): the same
 * bytes `JSON.stringify` of the event object gives, without building and serialising that object
 * for each of a long answer's events. tests/responses/builder-wire.test.ts holds them to it.
 */
type Item = Record<string, unknown>;

/** Stand-ins for the response object's variable fields in its serialised template. */
export const MARK = { status: "\u0000status\u0000", error: "\u0000error\u0000", incomplete: "\u0000incomplete\u0000", output: "\u0000output\u0000", usage: "\u0000usage\u0000" };

/** The serialised response with the stand-ins cut out: six pieces around status, error, incomplete_details, output, usage. */
export type ResponseTemplate = [string, string, string, string, string, string];

/**
 * Cuts a response serialised with the MARK stand-ins into its constant pieces. status, error and
 * incomplete_details come before the request's echo (first occurrences), output and usage after
 * it (last occurrences), so nothing a client sent can be mistaken for a stand-in.
 */
export function responseTemplate(r: Item): ResponseTemplate {
  const json = JSON.stringify(r);
  const m = (k: keyof typeof MARK) => JSON.stringify(MARK[k]);
  const s = json.indexOf(m("status"));
  const e = json.indexOf(m("error"), s);
  const i = json.indexOf(m("incomplete"), e);
  const u = json.lastIndexOf(m("usage"));
  const o = json.lastIndexOf(m("output"), u);
  return [
    json.slice(0, s),
    json.slice(s + m("status").length, e),
    json.slice(e + m("error").length, i),
    json.slice(i + m("incomplete").length, o),
    json.slice(o + m("output").length, u),
    json.slice(u + m("usage").length),
  ];
}

/**
 * One text delta event, written without building and serialising an object: nearly every event
 * of a long answer is one of these. Same bytes as emit() gives (ids are plain ASCII).
 */
export function deltaFrame(type: string, seq: number, ids: string, delta: string, tail: string): string {
  return `event: ${type}\ndata: {"type":"${type}","sequence_number":${seq},${ids},"delta":${JSON.stringify(delta)}${tail}}\n\n`;
}
