import { Elysia } from "elysia";
import type { Services } from "../services";
import { presentedKey } from "../keys/client-keys";
import { allowedHosts, isAllowedHost } from "../admin/host-guard";
import { hostOf, sessionOf } from "../admin/guard";
import { sessionsFor } from "../admin/session";
import { MetricsRegistry, histogramLines, label } from "../metrics/registry";
import { accountPacingMetrics, keyLimitMetrics, queueMetrics } from "../metrics/pacing";

/**
 * GET /metrics — Prometheus text format. Needs a client key (`Authorization: Bearer …`, which is
 * what Prometheus' `authorization` scrape setting sends) or an admin session: it names accounts.
 * Pool gauges (pacing and the wait queue included) and client-key limit counters come from
 * in-memory state; nothing here calls Kiro.
 */
export const metricsRoutes = (s: Services) => {
  const registry = new MetricsRegistry(s.bus);
  const allowed = allowedHosts(s.config.host, s.config.allowedHosts);
  const sessions = sessionsFor(s);
  const authorised = (request: Request) =>
    !!s.keys.verify(presentedKey(request.headers)) || (isAllowedHost(hostOf(request), allowed) && !!sessionOf(request, sessions));

  return new Elysia({ name: "metrics-routes" }).get("/metrics", ({ request }) => {
    if (!authorised(request)) {
      return new Response("metrics need a client key (Authorization: Bearer <key>) or an admin session\n", {
        status: 401,
        headers: { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="kiro-server"' },
      });
    }
    return new Response(render(s, registry), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
  });
};

function render(s: Services, r: MetricsRegistry): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  metric("kiro_build_info", "gauge", "Build information.", [`kiro_build_info{version="${label(s.version)}",instance="${label(s.config.instanceId)}"} 1`]);
  metric("kiro_uptime_seconds", "gauge", "Seconds since the server started.", [`kiro_uptime_seconds ${Math.round((Date.now() - s.startedAt) / 1000)}`]);

  metric("kiro_requests_total", "counter", "Finished /v1 turns by dialect, requested model and HTTP status.",
    [...r.requests].map(([k, n]) => {
      const [dialect, model, status] = k.split("|");
      return `kiro_requests_total{dialect="${label(dialect!)}",model="${label(model!)}",status="${status}"} ${n}`;
    }));
  metric("kiro_request_errors_total", "counter", "Failed turns by error kind.",
    [...r.errors].map(([k, n]) => `kiro_request_errors_total{kind="${label(k)}"} ${n}`));
  metric("kiro_tokens_total", "counter", "Tokens served (input as reported or estimated).",
    [`kiro_tokens_total{direction="input"} ${r.tokens.input}`, `kiro_tokens_total{direction="output"} ${r.tokens.output}`]);
  metric("kiro_credits_total", "counter", "Kiro credits charged (meteringEvent).", [`kiro_credits_total ${r.credits}`]);
  metric("kiro_request_duration_seconds", "histogram", "Whole turn duration.", histogramLines("kiro_request_duration_seconds", r.duration));
  metric("kiro_time_to_first_token_seconds", "histogram", "Time until the upstream's first event (successful turns).", histogramLines("kiro_time_to_first_token_seconds", r.ttft));

  const up = s.upstream.slots?.stats();
  if (up) {
    metric("kiro_upstream_connections_limit", "gauge", "Upstream requests allowed at once (KIRO_MAX_UPSTREAM_REQUESTS, capped at Bun's fetch limit).", [`kiro_upstream_connections_limit ${up.max}`]);
    metric("kiro_upstream_connections_open", "gauge", "Upstream requests open now (streams included).", [`kiro_upstream_connections_open ${up.open}`]);
    metric("kiro_upstream_queue_waiting", "gauge", "Upstream requests waiting for a connection now.", [`kiro_upstream_queue_waiting ${up.queued}`]);
    metric("kiro_upstream_queue_waits_total", "counter", "Upstream requests that had to wait for a connection.", [`kiro_upstream_queue_waits_total ${up.waitedTotal}`]);
    metric("kiro_upstream_queue_timeouts_total", "counter", "Upstream requests that gave up waiting (KIRO_UPSTREAM_QUEUE_MS).", [`kiro_upstream_queue_timeouts_total ${up.timedOutTotal}`]);
  }
  const p = s.pool.summary();
  metric("kiro_accounts", "gauge", "Accounts by state.",
    (["active", "cooling", "exhausted", "disabled"] as const).map((st) => `kiro_accounts{state="${st}"} ${p[st]}`));
  metric("kiro_accounts_usable", "gauge", "Accounts that can be picked right now.", [`kiro_accounts_usable ${p.usable}`]);
  const accounts = s.pool.list();
  const per = (name: string, type: string, help: string, value: (a: (typeof accounts)[number]) => number | undefined) =>
    metric(name, type, help, accounts.flatMap((a) => {
      const v = value(a);
      return v === undefined ? [] : [`${name}{account="${label(a.label)}",state="${a.state}"} ${v}`];
    }));
  per("kiro_account_requests_total", "counter", "Requests served per account.", (a) => a.requests);
  per("kiro_account_errors_total", "counter", "Upstream errors per account.", (a) => a.errors);
  per("kiro_account_inflight", "gauge", "Requests running on the account now.", (a) => a.inflight);
  per("kiro_account_credits_remaining", "gauge", "Remaining credits from the last quota poll.", (a) => a.quota?.remaining);
  accountPacingMetrics(metric, accounts, Date.now());
  queueMetrics(metric, s.pool.queueStats());
  const names = new Map(s.keys.list().map((k) => [k.id, k.name]));
  keyLimitMetrics(metric, s.keyLimiter.all().map((u) => ({ ...u, name: names.get(u.keyId) ?? u.keyId })));
  return lines.join("\n") + "\n";
}
