/**
 * More `[[fake:NAME]]` directives (the built-in list is in server.ts's opening comment, answered
 * by chat-scenario.ts):
 *
 *   tool_cut            some text, then a call of the first declared tool whose input JSON stops
 *                       in the middle of a string and the body ends (no `stop` frame): the
 *                       upstream's output cap cutting a long Write/Edit argument
 *   tool_cut_exception  the same cut, then a ContentLengthExceededException frame and the usual
 *                       metering/context events (the other way the cap shows up)
 *   tool_cut_invalid    the call reaches `stop: true` but its input is not valid JSON
 *   model               answers "Model: <modelId>" (the id the request was sent with; "(default)" if none)
 *
 * The optional number (`[[fake:tool_cut:N]]`) is the length of the input JSON before the cut
 * (default 200; the input is a long `content` string so the cut is always inside it).
 */
import { textScenario, textSteps, toolUseId, usageSteps, type Scenario, type Step } from "./scenarios";

function firstToolName(body: any): string | undefined {
  const tools: any[] = body?.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext?.tools ?? [];
  return tools.map((t) => t?.toolSpecification?.name).find((n) => typeof n === "string");
}

/** The frames of a call whose JSON input is cut after `cutAt` characters (never a complete value). */
export function cutToolSteps(name: string, cutAt: number, opts: { stop?: boolean; id?: string } = {}): Step[] {
  const id = opts.id ?? toolUseId();
  const full = JSON.stringify({ file_path: "/tmp/big.txt", content: "line of generated text\n".repeat(Math.ceil(cutAt / 20) + 50) });
  const cut = full.slice(0, Math.max(1, Math.min(cutAt, full.length - 10)));
  const steps: Step[] = [{ event: "toolUseEvent", payload: { name, toolUseId: id } }];
  for (let o = 0; o < cut.length; o += 37) steps.push({ event: "toolUseEvent", payload: { input: cut.slice(o, o + 37), name, toolUseId: id } });
  if (opts.stop) steps.push({ event: "toolUseEvent", payload: { name, stop: true, toolUseId: id } });
  return steps;
}

export function truncatedToolScenario(name: string, mode: "eof" | "exception" | "invalid", cutAt = 200): Scenario {
  const lead = textSteps("Writing the file now.", 2);
  const call = cutToolSteps(name, cutAt, { stop: mode === "invalid" });
  if (mode === "eof") return { name: "tool-cut", steps: [...lead, ...call] };
  if (mode === "invalid") return { name: "tool-cut-invalid", steps: [...lead, ...call, ...usageSteps()] };
  return {
    name: "tool-cut-exception",
    steps: [
      ...lead,
      ...call,
      { exception: { type: "ContentLengthExceededException", message: "Response exceeded the maximum output length" } },
      ...usageSteps(),
    ],
  };
}

/** A scenario for one of the directives above, or undefined when the name is not one of them. */
export function extraDirectiveScenario(name: string, body: unknown, arg?: number): Scenario | undefined {
  switch (name) {
    case "tool_cut":
    case "tool_cut_exception":
    case "tool_cut_invalid": {
      const tool = firstToolName(body);
      if (!tool) return textScenario("No tools were declared.");
      const mode = name === "tool_cut" ? "eof" : name === "tool_cut_exception" ? "exception" : "invalid";
      return truncatedToolScenario(tool, mode, arg ?? 200);
    }
    case "model": {
      const id = (body as any)?.conversationState?.currentMessage?.userInputMessage?.modelId;
      return textScenario(`Model: ${typeof id === "string" ? id : "(default)"}`);
    }
  }
  return undefined;
}
