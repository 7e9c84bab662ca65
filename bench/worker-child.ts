// A worker process for the benchmark: runs a `noop` handler (W2) and a
// `latency` handler that reports how long after its enqueue it started (W3).
// Prints JSON lines on stdout: {"ready":true}, {"latencyMs":...}, {"finished":n}
// every 500 finished jobs, and on
// SIGTERM {"peakRssMb":...} before it exits. Usage: bun bench/worker-child.ts URL CONCURRENCY

import { createSql } from "../src/db/connect.ts";
import { Worker } from "../src/worker/worker.ts";

const [url, concurrency] = process.argv.slice(2);
const sql = createSql(url!, { max: 6, applicationName: "claude-jobs bench worker" });
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 25);

const worker = new Worker({
  sql,
  concurrency: Number(concurrency ?? 10),
  pollIntervalMs: 1000,
  handlers: {
    noop: async () => {},
    latency: async ({ job }) => {
      // Wall-clock in both processes: timeOrigin + now() is sub-millisecond.
      const latencyMs = performance.timeOrigin + performance.now() - (job.payload.sentAt as number);
      process.stdout.write(JSON.stringify({ latencyMs, seq: job.payload.seq }) + "\n");
    },
  },
});
// Finished jobs, counted once their outcome is committed: the parent's drain clock.
let finished = 0;
worker.on("job:finished", () => {
  finished += 1;
  if (finished % 500 === 0) process.stdout.write(JSON.stringify({ finished }) + "\n");
});
worker.on("error", (e) => process.stderr.write(`worker error: ${e}\n`));
await worker.start();
process.stdout.write(JSON.stringify({ ready: true }) + "\n");

process.on("SIGTERM", async () => {
  await worker.stop({ timeoutMs: 5000 });
  clearInterval(sampler);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ peakRssMb: Math.max(peakRss / 2 ** 20, maxRssMb) }) + "\n");
  await sql.end();
  process.exit(0);
});
