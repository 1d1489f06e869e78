/** The JSON response-format emulation is shared by every OpenAI-style dialect: it lives in src/core. */
export { checkResponseFormat, extractJson, responseFormatInstruction, type FormatCheck, type ResponseFormat } from "../../core/response-format";
