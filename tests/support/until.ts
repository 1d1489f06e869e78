/**
 * Waits until `check` holds (polled every 5 ms), failing after `ms` with `what` in the message: for
 * effects that land just after a response (request-log lines, metrics), instead of a fixed sleep.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}
