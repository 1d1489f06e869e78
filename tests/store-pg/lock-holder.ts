// Child process for lock.test.ts: takes a cluster lock, says so on stdout, then holds it until killed.
import { SQL } from "bun";
import { withAdvisoryLock } from "../../src/db/pg/lock";

const [url, name] = process.argv.slice(2);
const sql = new SQL(url!, { max: 2 });
await withAdvisoryLock(sql, name!, async () => {
  process.stdout.write("held\n");
  await new Promise(() => {}); // until kill -9
});
