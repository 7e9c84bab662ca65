// A claude-jobs-like process for the tests: starts or attaches to the
// embedded PostgreSQL of argv[2], prints one JSON line, and exits (or, with
// argv[3] === "hold", stays up until killed).
import { startEmbeddedPostgres } from "../../src/db/embedded/index.ts";

const began = performance.now();
const pg = await startEmbeddedPostgres({
  dataDir: process.argv[2]!,
  log: (line) => console.error(`[${process.pid}] ${line}`),
});
const ms = Math.round(performance.now() - began);
console.log(JSON.stringify({ url: pg.url, pid: pg.pid, port: pg.port, started: pg.started, ms }));
if (process.argv[3] === "hold") setInterval(() => {}, 1000);
