/**
 * Where upstream calls go (docs/upstream.md, Hosts and endpoint families; Region). Three host families serve the same API; the
 * newest is tried first, the one that answered is remembered per region, and after a TTL the
 * newer family is tried again so a later migration is picked up. KIRO_API_URL pins one host.
 */
import type { KiroUpstreamConfig } from "./config";

export type EndpointFamily = "A" | "B" | "C" | "custom";

export type FamilyTemplate = { family: EndpointFamily; template: string; onlyRegion?: string };

/** Newest first. C exists only in us-east-1 (there is no codewhisperer.{region} host elsewhere). */
export const DEFAULT_FAMILIES: readonly FamilyTemplate[] = [
  { family: "A", template: "https://runtime.{region}.kiro.dev" },
  { family: "B", template: "https://q.{region}.amazonaws.com" },
  { family: "C", template: "https://codewhisperer.us-east-1.amazonaws.com", onlyRegion: "us-east-1" },
];

export const DEFAULT_AUTH_URL = "https://prod.{region}.auth.desktop.kiro.dev";
export const DEFAULT_OIDC_URL = "https://oidc.{region}.amazonaws.com";
const FAMILY_A_MANAGEMENT = "https://management.{region}.kiro.dev";

export type Endpoint = {
  family: EndpointFamily;
  /** Chat + usage host, no trailing slash. */
  baseUrl: string;
  /** Host for ListAvailableModels / ListAvailableProfiles (family A: the management host; B/C: the chat host). */
  managementUrl: string;
  region: string;
};

export type EndpointLogEvent = {
  event: "kiro_endpoint_family";
  region: string;
  family: EndpointFamily;
  baseUrl: string;
  previous?: EndpointFamily;
};

export function withRegion(template: string, region: string): string {
  return template.replaceAll("{region}", region).replace(/\/+$/, "");
}

/** The region segment of `arn:aws:codewhisperer:{region}:{account}:profile/{id}`. */
export function regionFromProfileArn(profileArn?: string): string | undefined {
  if (!profileArn) return undefined;
  const parts = profileArn.split(":");
  return parts.length >= 6 && parts[0] === "arn" && parts[3] ? parts[3] : undefined;
}

/** API region: ARN region > credential's API region > us-east-1. */
export function apiRegionFor(profileArn?: string, configuredRegion?: string): string {
  return regionFromProfileArn(profileArn) ?? (configuredRegion || "us-east-1");
}

/** Auth region: credential authRegion > credential region > configured auth region > configured region > us-east-1 (kiro.rs's rule). */
export function authRegionFor(r: {
  credentialAuthRegion?: string;
  credentialRegion?: string;
  configAuthRegion?: string;
  configRegion?: string;
}): string {
  return r.credentialAuthRegion || r.credentialRegion || r.configAuthRegion || r.configRegion || "us-east-1";
}

export function socialRefreshUrl(upstream: KiroUpstreamConfig, authRegion: string): string {
  return `${withRegion(upstream.authUrl ?? DEFAULT_AUTH_URL, authRegion)}/refreshToken`;
}

export function oidcTokenUrl(upstream: KiroUpstreamConfig, authRegion: string): string {
  return `${withRegion(upstream.oidcUrl ?? DEFAULT_OIDC_URL, authRegion)}/token`;
}

/** Family A refuses requests without an ARN (400 "profileArn is required for this request"); B/C accept them. */
export function familyRequiresProfileArn(family: EndpointFamily): boolean {
  return family === "A";
}

export type EndpointSelectorOptions = {
  families?: readonly FamilyTemplate[];
  /** How long a remembered older family is trusted before the newer one is tried again. */
  ttlMs?: number;
  log?: (e: EndpointLogEvent) => void;
  now?: () => number;
};

/** Remembers the working family per region (in memory). One instance per process is enough. */
export class EndpointSelector {
  private readonly families: readonly FamilyTemplate[];
  private readonly ttlMs: number;
  private readonly log?: (e: EndpointLogEvent) => void;
  private readonly now: () => number;
  private readonly remembered = new Map<string, { family: EndpointFamily; at: number }>();
  /** machineId → when family A last refused this ARN-less account (it is then sent to family B). */
  private readonly lacksArn = new Map<string, number>();

  constructor(opts: EndpointSelectorOptions = {}) {
    this.families = opts.families ?? DEFAULT_FAMILIES;
    this.ttlMs = opts.ttlMs ?? 60 * 60 * 1000;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /** Ordered hosts to try for a region; a single pinned host when KIRO_API_URL is set. */
  candidates(region: string, upstream: KiroUpstreamConfig): Endpoint[] {
    if (upstream.apiUrl) {
      const baseUrl = withRegion(upstream.apiUrl, region);
      return [{ family: "custom", baseUrl, managementUrl: baseUrl, region }];
    }
    const all = this.families
      .filter((f) => !f.onlyRegion || f.onlyRegion === region)
      .map((f): Endpoint => {
        const baseUrl = withRegion(f.template, region);
        const managementUrl =
          f.family === "A" && f.template === DEFAULT_FAMILIES[0]!.template
            ? withRegion(FAMILY_A_MANAGEMENT, region)
            : baseUrl;
        return { family: f.family, baseUrl, managementUrl, region };
      });
    const mem = this.remembered.get(region);
    if (!mem || this.now() - mem.at >= this.ttlMs) return all; // TTL over: newest first again
    const idx = all.findIndex((e) => e.family === mem.family);
    if (idx <= 0) return all;
    return [all[idx]!, ...all.filter((_, i) => i !== idx)];
  }

  /** Called when a family answered (any non-404 HTTP answer proves the host serves the API). */
  reportWorking(region: string, endpoint: Endpoint): void {
    if (endpoint.family === "custom") return;
    const prev = this.remembered.get(region);
    // Keep the original timestamp while the same family keeps working inside the TTL, otherwise
    // every success would extend the TTL and the newer family would never be retried.
    if (prev && prev.family === endpoint.family && this.now() - prev.at < this.ttlMs) return;
    this.remembered.set(region, { family: endpoint.family, at: this.now() });
    // Logged only when the choice changes, not on every request.
    if (prev?.family !== endpoint.family) {
      this.log?.({ event: "kiro_endpoint_family", region, family: endpoint.family, baseUrl: endpoint.baseUrl, previous: prev?.family });
    }
  }

  /**
   * Family A answered "profileArn is required" for this account (keyed by its stable machineId):
   * skip ARN-requiring families for it until the TTL ends, instead of paying a failed 400 round
   * trip on every request. Other accounts of the region are unaffected.
   */
  rememberLacksArn(machineId: string): void {
    this.lacksArn.set(machineId, this.now());
  }

  /** True while an earlier "profileArn is required" for this account is within the TTL. */
  knownToLackArn(machineId: string): boolean {
    const at = this.lacksArn.get(machineId);
    if (at === undefined) return false;
    if (this.now() - at < this.ttlMs) return true;
    this.lacksArn.delete(machineId); // TTL over: the account may have gained an ARN, try A again
    return false;
  }

  rememberedFamily(region: string): EndpointFamily | undefined {
    return this.remembered.get(region)?.family;
  }
}

/** Process-wide selector used when callers pass none. */
export const defaultEndpointSelector = new EndpointSelector();
