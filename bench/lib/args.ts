/** Command-line options of the bench scripts: `--name value`, numbers, and repeatable `--flag K=V`. */

/** The value after `--name`, or undefined. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `--name` as a number, or `dflt`. */
export const num = (name: string, dflt: number): number => (arg(name) !== undefined ? Number(arg(name)) : dflt);

/** Every `--flag K=V` (repeatable) as an environment object, e.g. envArgs("--server-env"). */
export function envArgs(flag: string): Record<string, string> {
  return Object.fromEntries(
    process.argv.flatMap((a, i) => (process.argv[i - 1] === flag && a.includes("=") ? [[a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]] : [])),
  );
}
