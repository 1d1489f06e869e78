import type { Job } from "../jobs";

/** Progress and per-row results of a long operation; polls itself until the job is done. */
export function JobReport(props: { job: Job }) {
  const { job } = props;
  const count = (o: string) => job.rows.filter((r) => r.outcome === o).length;
  const summary = ["added", "updated", "skipped", "failed", "ok"].map((o) => [o, count(o)] as const).filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`).join(", ");
  const poll = job.done ? {} : { "hx-get": `/jobs/${job.id}`, "hx-trigger": "load delay:500ms", "hx-swap": "outerHTML" };
  return (
    <section class="job card" id={`job-${job.id}`} data-done={job.done ? "1" : "0"} {...poll}>
      <h3 safe>{job.title}</h3>
      <progress max={String(Math.max(1, job.total))} value={String(job.rows.length)}></progress>
      <p class="muted" safe>{`${job.rows.length} of ${job.total} done${summary ? " — " + summary : ""}${job.done ? "" : " …"}`}</p>
      {job.rows.length ? (
        <table class="report">
          <thead><tr><th>Entry</th><th>Result</th><th>Why</th></tr></thead>
          <tbody>
            {job.rows.map((r) => (
              <tr class={r.ok ? "" : "bad"}>
                <td safe>{r.name}</td>
                <td><span class={`badge o-${r.outcome}`} safe>{r.outcome}</span></td>
                <td safe>{r.why ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : ""}
    </section>
  );
}
