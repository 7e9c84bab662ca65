// A job whose kind no live worker handles (on its queue) would wait in
// silence: the overview shows a warning row per queue and kind, and
// /api/stats says the same in `unserved`. Real workers (holding their locks)
// make jobs served; escaping is checked on the view with hostile names too.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { activeContent, webFixture, type WebFixture } from "./helpers.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { OverviewLive, type OverviewData } from "../../src/web/views/overview.tsx";

let f: WebFixture;
const pool = new WorkerPool();
beforeAll(async () => { f = await webFixture(); });
afterEach(() => pool.stopAll());
afterAll(async () => { await f.db.drop(); });

const stats = async () => (await (await f.request("GET", "/api/stats")).json()) as any;
const overview = async () => (await f.request("GET", "/", { headers: { accept: "text/html" } })).text();
const warnings = (html: string) =>
  [...html.matchAll(/<div class="notice warn" role="alert"[^>]*>([\s\S]*?)<\/div>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));

test("queued jobs of a kind no live worker handles on their queue are in /api/stats and warned of on the overview", async () => {
  // Scheduled an hour out, so the workers below hold them without running them.
  await f.queue.enqueueMany([
    { kind: "mail", queue: "mail", payload: {}, delay: "1h" },
    { kind: "mail", queue: "mail", payload: {}, delay: "1h" },
    { kind: "resize", queue: "mail", payload: {}, delay: "1h" },
    { kind: "mail", queue: "other", payload: {}, delay: "1h" },
  ]);
  expect((await stats()).unserved).toEqual([
    { queue: "mail", kind: "mail", jobs: 2 }, { queue: "mail", kind: "resize", jobs: 1 }, { queue: "other", kind: "mail", jobs: 1 },
  ]);
  expect(warnings(await overview())).toEqual([
    "2 queued jobs of kind mail in queue mail: no live worker handles this kind on this queue",
    "1 queued job of kind resize in queue mail: no live worker handles this kind on this queue",
    "1 queued job of kind mail in queue other: no live worker handles this kind on this queue",
  ]);
  const html = await overview();
  expect(html).toContain('href="/jobs?queue=mail&kind=resize"');

  // A worker on queue mail with a mail handler serves the first group only.
  await pool.start({ sql: f.db.sql, queues: ["mail"], handlers: { mail: async () => {} } });
  expect((await stats()).unserved).toEqual([{ queue: "mail", kind: "resize", jobs: 1 }, { queue: "other", kind: "mail", jobs: 1 }]);
  const partial = await (await f.request("GET", "/partials/overview", { headers: { accept: "text/html" } })).text();
  expect(warnings(partial)).toEqual([
    "1 queued job of kind resize in queue mail: no live worker handles this kind on this queue",
    "1 queued job of kind mail in queue other: no live worker handles this kind on this queue",
  ]);

  // Every queue and kind served: no warning at all.
  await pool.start({ sql: f.db.sql, queues: ["*"], handlers: { mail: async () => {}, resize: async () => {} } });
  expect((await stats()).unserved).toEqual([]);
  const quiet = await overview();
  expect(warnings(quiet)).toEqual([]);
  expect(quiet).not.toContain('class="warnings"');

  // The worker gone (its lock released), the jobs are unserved again.
  await pool.stopAll();
  expect((await stats()).unserved.length).toBe(3);
});

test("the warning escapes queue and kind names", async () => {
  const data: OverviewData = {
    stats: { waiting: 0, queued: 1, scheduled: 0, running: 0, finished: 0, failed: 0, cancelled: 0, total: 1, queues: [] },
    throughput: [], recent: [], workers: 0,
    unserved: [{ queue: `q"><img src=x onerror=alert(1)>`, kind: "<script>alert(2)</script>", jobs: 1 }],
  };
  const html = OverviewLive({ data }) as string;
  expect(await activeContent(html)).toEqual([]);
  // Parsed by a real HTML parser: the names are text and attribute values, never elements.
  const seen: { tags: string[]; text: string; attrs: Record<string, string> } = { tags: [], text: "", attrs: {} };
  await new HTMLRewriter()
    .on(".notice.warn, .notice.warn *", {
      element(el) {
        seen.tags.push(el.tagName);
        for (const [k, v] of el.attributes) seen.attrs[k] = v;
      },
      text(t) { seen.text += t.text; },
    })
    .transform(new Response(html)).text();
  expect(seen.tags).toEqual(["div", "a"]);
  expect(seen.text).toContain("of kind &lt;script&gt;alert(2)&lt;/script&gt; in queue q&quot;&gt;&lt;img src=x onerror=alert(1)&gt;: no live worker");
  expect(seen.attrs.href).toBe("/jobs?queue=q%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&kind=%3Cscript%3Ealert(2)%3C%2Fscript%3E");
});

test("the count is reused for its TTL (the overview polls), and read afresh after it", async () => {
  const { unservedJobs } = await import("../../src/web/unserved.ts");
  const { createTestDatabase } = await import("../helpers/db.ts");
  const { Queue } = await import("../../src/queue/client.ts");
  const own = await createTestDatabase();
  try {
    const first = await unservedJobs(own.sql, 10_000, 0);
    expect(first).toEqual([]);
    await new Queue(own.sql).enqueue({ kind: "nobody", queue: "q", payload: {}, delay: "1h" });
    expect(await unservedJobs(own.sql, 10_000, 5_000)).toEqual([]); // within the TTL: the kept answer
    expect(await unservedJobs(own.sql, 10_000, 10_001)).toEqual([{ queue: "q", kind: "nobody", jobs: 1 }]);
  } finally {
    await own.drop();
  }
});
