/**
 * Seeded request mutations for the reliability fuzzer: valid bodies of every endpoint and
 * dialect, then one mutation each (wrong types, nulls, removed fields, huge and deep values,
 * invalid UTF-8, non-JSON, wrong content types, garbage tool schemas and images). The same seed
 * gives the same cases, so a failure names a reproducible case.
 */

export type Dialect = "openai" | "anthropic" | "responses";

export type FuzzCase = {
  name: string;
  dialect: Dialect;
  method: "GET" | "POST" | "DELETE";
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
};

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: fast, deterministic, good enough to pick mutations.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const MODEL = "claude-sonnet-4-5";

export function anthropicBody(stream: boolean): Record<string, unknown> {
  return {
    model: MODEL,
    max_tokens: 64,
    system: [{ type: "text", text: "You are terse." }],
    stream,
    tools: [{ name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
    messages: [
      { role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] },
      { role: "assistant", content: [{ type: "text", text: "Let me check." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "sunny" }] }, { type: "text", text: "And now?" }] },
    ],
  };
}

export function countBody(): Record<string, unknown> {
  const b = anthropicBody(false);
  delete b.max_tokens;
  delete b.stream;
  return b;
}

export function openaiBody(stream: boolean): Record<string, unknown> {
  return {
    model: MODEL,
    max_tokens: 64,
    stream,
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
    tool_choice: "auto",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
      { role: "user", content: "And now?" },
    ],
  };
}

export function responsesBody(stream: boolean): Record<string, unknown> {
  return {
    model: MODEL,
    max_output_tokens: 64,
    stream,
    store: true,
    instructions: "You are terse.",
    tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
    tool_choice: "auto",
    input: [
      { type: "message", role: "user", content: [{ type: "input_text", text: "What is in this picture?" }, { type: "input_image", image_url: `data:image/png;base64,${PNG}` }] },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_1", output: "sunny" },
      { type: "message", role: "user", content: "And now?" },
    ],
  };
}

type Path = Array<string | number>;

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(root: unknown, path: Path, value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else o[last] = value;
  return copy;
}

const deepText = (depth: number, open: string, close: string, leaf: string) => open.repeat(depth) + leaf + close.repeat(depth);

export function fuzzCases(seed: number, perEndpoint: number, clientKey: string): FuzzCase[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: FuzzCase[] = [];
  const endpoints: Array<{ dialect: Dialect; path: string; base: () => Record<string, unknown>; auth: Record<string, string> }> = [
    { dialect: "openai", path: "/v1/chat/completions", base: () => openaiBody(r() < 0.5), auth: { authorization: `Bearer ${clientKey}` } },
    { dialect: "anthropic", path: "/v1/messages", base: () => anthropicBody(r() < 0.5), auth: { "x-api-key": clientKey, "anthropic-version": "2023-06-01" } },
    { dialect: "anthropic", path: "/v1/messages/count_tokens", base: countBody, auth: { "x-api-key": clientKey, "anthropic-version": "2023-06-01" } },
    { dialect: "responses", path: "/v1/responses", base: () => responsesBody(r() < 0.5), auth: { authorization: `Bearer ${clientKey}` } },
  ];
  const weird: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, "", "x", [], {}, [null], { a: null }, "__proto__", { __proto__: { polluted: true } }, "\u0000\ud800"];

  for (const ep of endpoints) {
    for (let i = 0; i < perEndpoint; i++) {
      const base = ep.base();
      const all = paths(base).filter((p) => p.length > 0);
      const at = pick(all);
      const where = at.join(".");
      const headers: Record<string, string> = { "content-type": "application/json", ...ep.auth };
      let body: string | Uint8Array<ArrayBuffer>;
      let name: string;
      const kind = Math.floor(r() * 12);
      switch (kind) {
        case 0: {
          const v = pick(weird);
          name = `wrong type at ${where}: ${JSON.stringify(v)}`;
          body = JSON.stringify(setAt(base, at, v));
          break;
        }
        case 1:
          name = `null at ${where}`;
          body = JSON.stringify(setAt(base, at, null));
          break;
        case 2:
          name = `removed ${where}`;
          body = JSON.stringify(setAt(base, at, undefined, true));
          break;
        case 3: {
          const big = pick(["Z".repeat(300_000), "ab ".repeat(100_000), "中".repeat(100_000), Array.from({ length: 20_000 }, (_, j) => j)]);
          name = `huge value at ${where}`;
          body = JSON.stringify(setAt(base, at, big));
          break;
        }
        case 4: {
          // Deep nesting spliced in as text (JSON.stringify of such a value would overflow first).
          const depth = pick([100, 2_000, 50_000]);
          const deep = pick([deepText(depth, "[", "]", "1"), deepText(depth, '{"a":', "}", "1")]);
          const marker = "\"__DEEP__\"";
          name = `nesting ${depth} deep at ${where}`;
          body = JSON.stringify(setAt(base, at, "__DEEP__")).replace(marker, deep);
          break;
        }
        case 5: {
          const text = JSON.stringify(base);
          const bytes = new TextEncoder().encode(text);
          const pos = Math.floor(r() * bytes.length);
          const bad = pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x00]]);
          const mixed = new Uint8Array(bytes.length + bad.length);
          mixed.set(bytes.subarray(0, pos));
          mixed.set(bad, pos);
          mixed.set(bytes.subarray(pos), pos + bad.length);
          name = `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(" ")} at byte ${pos}`;
          body = mixed;
          break;
        }
        case 6: {
          const text = JSON.stringify(base);
          const variant = pick(["truncated", "empty", "spaces", "array", "number", "string", "null", "garbage", "trailing", "bom"] as const);
          name = `non-JSON body: ${variant}`;
          body = {
            truncated: text.slice(0, Math.floor(r() * text.length)),
            empty: "",
            spaces: "   \n ",
            array: "[]",
            number: "123",
            string: '"hello"',
            null: "null",
            garbage: String.fromCharCode(...Array.from({ length: 64 }, () => Math.floor(r() * 256))),
            trailing: `${text},`,
            bom: `\ufeff${text}`,
          }[variant];
          break;
        }
        case 7: {
          const ct = pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""]);
          name = `content-type ${JSON.stringify(ct)}`;
          if (ct) headers["content-type"] = ct;
          else delete headers["content-type"];
          body = pick([JSON.stringify(base), "a=1&b=2", "<x/>"]);
          break;
        }
        case 8: {
          const schema = pick<unknown>([[], "object", 5, null, { type: "object", properties: [] }, { type: "object", properties: { a: { $ref: "#" } } }, JSON.parse(deepText(500, '{"properties":{"a":', "}}", "{}")), { type: ["object", null] }]);
          const nameV = pick<unknown>(["", "x".repeat(5000), "名前", "__proto__", 5, null, "a b/c", true]);
          const tool =
            ep.dialect === "openai"
              ? pick<unknown>([{ type: "function", function: { name: nameV, parameters: schema } }, { type: "function", function: null }, { type: "function" }, { type: nameV }, null])
              : ep.dialect === "responses"
                ? pick<unknown>([{ type: "function", name: nameV, parameters: schema }, { type: "function", name: "t", parameters: schema }, { type: "function" }, { type: "namespace", name: "n", tools: pick<unknown>([null, 5, [null], [{ type: "function", name: nameV }]]) }, { type: "custom", name: nameV, format: schema }, { type: nameV }, null])
                : pick<unknown>([{ name: nameV, input_schema: schema }, { name: "t", input_schema: schema }, { type: nameV, name: "t" }, null, { name: "t" }]);
          name = `garbage tool ${JSON.stringify(tool)?.slice(0, 80)}`;
          body = JSON.stringify({ ...base, tools: [tool] });
          break;
        }
        case 9: {
          const data = pick<unknown>(["", "not base64 !!!", null, 5, "A".repeat(200_001), PNG.slice(0, 10)]);
          const media = pick<unknown>(["image/png", "image/tiff", "", null, 7]);
          const part =
            ep.dialect === "openai"
              ? { type: "image_url", image_url: pick<unknown>([{ url: `data:${String(media)};base64,${String(data)}` }, { url: data }, data, { url: "http://169.254.169.254/latest" }, { url: "file:///etc/passwd" }, {}]) }
              : ep.dialect === "responses"
                ? { type: "input_image", ...pick<Record<string, unknown>>([{ image_url: `data:${String(media)};base64,${String(data)}` }, { image_url: data }, { image_url: { url: data } }, { image_url: "http://169.254.169.254/latest" }, { file_id: data }, {}]) }
                : { type: "image", source: pick<unknown>([{ type: "base64", media_type: media, data }, { type: "url", url: "http://169.254.169.254/" }, null, { type: data }]) };
          name = `garbage image ${JSON.stringify(part).slice(0, 80)}`;
          const list = ep.dialect === "responses" ? "input" : "messages";
          const messages = [...(base[list] as unknown[])];
          messages.push(ep.dialect === "responses" ? { type: "message", role: "user", content: [part] } : { role: "user", content: [part] });
          body = JSON.stringify({ ...base, [list]: messages });
          break;
        }
        case 10: {
          const key = pick(["__proto__", "constructor", "prototype"]);
          name = `prototype key ${key} at ${where}`;
          body = JSON.stringify(base).replace(/^\{/, `{"${key}":{"model":5,"messages":null},`);
          break;
        }
        default: {
          name = `valid body`;
          body = JSON.stringify(base);
          break;
        }
      }
      out.push({ name, dialect: ep.dialect, method: "POST", path: ep.path, headers, body });
    }
  }
  // GET /v1/models and /v1/models/{id}: garbage ids, both dialects' headers.
  const ids = ["claude-sonnet-4-5", "nope", "%E0%A4%A", "%", "..%2F..%2Fetc%2Fpasswd", "x".repeat(5000), "%00", "名前"];
  for (let i = 0; i < Math.max(8, Math.floor(perEndpoint / 4)); i++) {
    const anthropic = r() < 0.5;
    const id = pick(ids);
    out.push({
      name: `GET model ${id.slice(0, 40)}`,
      dialect: anthropic ? "anthropic" : "openai",
      method: "GET",
      path: r() < 0.3 ? "/v1/models" : `/v1/models/${id}`,
      headers: anthropic ? { "x-api-key": clientKey, "anthropic-version": "2023-06-01" } : { authorization: `Bearer ${clientKey}` },
    });
  }
  // The Responses API's stored-object routes: garbage ids, other keys' shapes.
  for (let i = 0; i < Math.max(8, Math.floor(perEndpoint / 4)); i++) {
    const id = pick(["resp_nope", ...ids]);
    const method = pick(["GET", "DELETE"] as const);
    const path = method === "GET" && r() < 0.4 ? `/v1/responses/${id}/input_items?limit=${pick(["0", "-1", "x", "101", "5"])}&order=${pick(["asc", "desc", "up"])}` : `/v1/responses/${id}`;
    out.push({ name: `${method} response ${id.slice(0, 40)}`, dialect: "responses", method, path, headers: { authorization: `Bearer ${clientKey}` } });
  }
  return out;
}
