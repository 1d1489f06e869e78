import { z } from "zod";

/**
 * The Chat Completions request body as clients send it. Loose objects:
 * every field a client may send is accepted; only what we translate is typed, and only
 * malformed input fails (→ 400 naming the param).
 */
const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
const imagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.union([z.string(), z.looseObject({ url: z.string(), detail: z.string().optional() })]),
});
const otherPart = z.looseObject({ type: z.string() });

export const userPartSchema = z.union([textPart, imagePart, otherPart]);
const textContent = z.union([z.string(), z.array(z.union([textPart, refusalPart, otherPart]))]);

const toolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }),
});

const systemMessage = z.looseObject({ role: z.enum(["system", "developer"]), content: textContent });
const userMessage = z.looseObject({ role: z.literal("user"), content: z.union([z.string(), z.array(userPartSchema)]) });
const assistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: textContent.nullish(),
  tool_calls: z.array(toolCall).nullish(),
  function_call: z.looseObject({ name: z.string(), arguments: z.string().nullish() }).nullish(),
  refusal: z.string().nullish(),
});
const toolMessage = z.looseObject({ role: z.literal("tool"), tool_call_id: z.string(), content: textContent.nullish() });
const functionMessage = z.looseObject({ role: z.literal("function"), name: z.string(), content: z.string().nullish() });

export const messageSchema = z.discriminatedUnion("role", [systemMessage, userMessage, assistantMessage, toolMessage, functionMessage]);

const functionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
/**
 * Any tool entry; a `function` one must be a valid function tool. A plain union would let a
 * broken function tool (`function: null`, `name: true`) pass as "some other tool type" and reach
 * the upstream request builder; here its own issues are reported, e.g. `tools[0].function.name`.
 */
const anyTool = z.looseObject({ type: z.string() }).superRefine((t, ctx) => {
  if (t.type !== "function") return;
  const r = functionTool.safeParse(t);
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
});

const namedChoice = z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) });
const allowedToolsChoice = z.looseObject({
  type: z.literal("allowed_tools"),
  allowed_tools: z.looseObject({
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string() }).optional() })),
  }),
});

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string().optional(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const positiveInt = z.number().int().positive();

/** `web_search_options` (search models): accepted fields; Kiro's search takes only the query. */
const webSearchOptions = z.looseObject({
  search_context_size: z.enum(["low", "medium", "high"]).nullish(),
  user_location: z
    .looseObject({
      type: z.literal("approximate"),
      approximate: z
        .looseObject({ city: z.string().nullish(), country: z.string().nullish(), region: z.string().nullish(), timezone: z.string().nullish() })
        .nullish(),
    })
    .nullish(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  tools: z.array(anyTool).nullish(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), namedChoice, allowedToolsChoice, z.looseObject({ type: z.string() })]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  // Legacy pre-`tools` API: `functions` + `function_call` (still sent by older LangChain and scripts).
  functions: z.array(z.looseObject({ name: z.string().min(1), description: z.string().nullish(), parameters: z.record(z.string(), z.unknown()).nullish() })).nullish(),
  function_call: z.union([z.enum(["none", "auto"]), z.looseObject({ name: z.string() })]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: positiveInt.nullish(),
  max_completion_tokens: positiveInt.nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().nullish(),
  seed: z.number().nullish(),
  user: z.string().nullish(),
  response_format: responseFormat.nullish(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullish(),
  web_search_options: webSearchOptions.nullish(),
});

export type ChatRequestBody = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof messageSchema>;

