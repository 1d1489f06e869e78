import type { ResolvedModel } from "../../src/core/canonical";
import { ModelCatalog } from "../../src/core/models";

/** The catalogue as the server builds it by default (family fallback on). */
export const catalog = new ModelCatalog({ fallback: "family" });

/** A model name resolved the way decoders do it (throws not_found for unknown names). */
export const model = (name: string): ResolvedModel => catalog.resolve(name);
