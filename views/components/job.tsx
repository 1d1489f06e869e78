import type { Tr } from "../../src/panel/shared/i18n/tr";
import type { Job, JobOutcome } from "../../src/panel/shared/jobs";

const OUTCOMES: JobOutcome[] = ["added", "updated", "skipped", "failed", "ok"];

/** Progress and per-row results of a long operation; polls itself until the job is done. */
export function JobReport(props: { tr: Tr; job: Job }) {
  const { job, tr } = props;
  const t = tr.t;
  const summary = OUTCOMES.map((o) => [o, job.rows.filter((r) => r.outcome === o).length] as const).filter(([, n]) => n > 0)
    .map(([o, n]) => t(`job.count.${o}`, { n })).join(t("list.sep"));
  const poll = job.done ? {} : { "hx-get": `/jobs/${job.id}`, "hx-trigger": "load delay:500ms", "hx-swap": "outerHTML" };
  const progress = t("job.progress", { done: job.rows.length, total: job.total });
  return (
    <section class="job card" id={`job-${job.id}`} data-done={job.done ? "1" : "0"} {...poll}>
      <h3 safe>{t(job.title.key, { ...job.title.params, ...Object.fromEntries(Object.entries(job.title.paramKeys ?? {}).map(([k, key]) => [k, t(key)])) })}</h3>
      <progress max={String(Math.max(1, job.total))} value={String(job.rows.length)}></progress>
      <p class="muted" safe>{`${progress}${summary ? " — " + summary : ""}${job.done ? "" : " …"}`}</p>
      {job.rows.length ? (
        <table class="report">
          <thead><tr><th safe>{t("job.entry")}</th><th safe>{t("job.result")}</th><th safe>{t("job.why")}</th></tr></thead>
          <tbody>
            {job.rows.map((r) => (
              <tr class={r.ok ? "" : "bad"}>
                <td safe>{r.name}</td>
                <td><span class={`badge o-${r.outcome}`} data-outcome={r.outcome} safe>{t(`job.outcome.${r.outcome}`)}</span></td>
                <td safe>{tr.said(r.why)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : ""}
    </section>
  );
}
