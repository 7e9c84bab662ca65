// The JSON API through app.handle against a real database: every endpoint,
// each filter, each action, and bad input (422 naming the field, 404 for
// unknown ids, never a 500).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertJob, statusOf, webFixture, type WebFixture } from "./helpers.ts";
import { OPENAPI } from "../../src/web/openapi.ts";

let f: WebFixture;
beforeAll(async () => { f = await webFixture(); });
afterAll(async () => { await f.db.drop(); });

const json = async (r: Response) => (await r.json()) as any;
const MISSING = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d";

describe("GET /api/stats and /api/jobs", () => {
  test("stats counts every status from the status column, scheduled apart from queued", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    await insertJob(f.db, { status: "queued" });
    await insertJob(f.db, { status: "queued", runInSeconds: 3600 });
    await insertJob(f.db, { status: "running" });
    await insertJob(f.db, { status: "finished" });
    await insertJob(f.db, { status: "failed", queue: "high" });
    await insertJob(f.db, { status: "cancelled" });
    const r = await f.request("GET", "/api/stats");
    expect(r.status).toBe(200);
    const s = await json(r);
    expect([s.queued, s.scheduled, s.running, s.finished, s.failed, s.cancelled, s.total]).toEqual([1, 1, 1, 1, 1, 1, 6]);
    expect(s.queues.map((q: any) => q.queue)).toEqual(["default", "high"]);
  });

  test("the job list filters by status, queue, kind and prompt text", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    const due = await insertJob(f.db, { payload: { prompt: "Refactor the Parser", cwd: "/tmp" } });
    const later = await insertJob(f.db, { runInSeconds: 600, queue: "low" });
    const mail = await insertJob(f.db, { kind: "mail", status: "finished", payload: { to: "a@b.c" } });
    const ids = async (qs: string) => (await json(await f.request("GET", `/api/jobs${qs}`))).map((j: any) => j.id);
    expect(await ids("?status=queued")).toEqual([due]);
    expect(await ids("?status=scheduled")).toEqual([later]);
    expect(await ids("?status=finished")).toEqual([mail]);
    expect(await ids("?queue=low")).toEqual([later]);
    expect(await ids("?kind=mail")).toEqual([mail]);
    expect(await ids("?q=parser")).toEqual([due]);
    expect(await ids("?q=100%25")).toEqual([]);
    expect((await ids("")).length).toBe(3);
  });

  test("the job list pages by keyset in each sort order", async () => {
    await f.db.sql`DELETE FROM claude_jobs`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push(await insertJob(f.db, { createdSecondsAgo: 100 - i, runInSeconds: -i }));
    const first = await f.request("GET", "/api/jobs?limit=2");
    const cursor = first.headers.get("x-next-cursor")!;
    expect(first.headers.get("link")).toContain('rel="next"');
    const second = await json(await f.request("GET", `/api/jobs?limit=2&cursor=${cursor}`));
    const third = await f.request("GET", `/api/jobs?limit=2&cursor=${(await f.request("GET", `/api/jobs?limit=2&cursor=${cursor}`)).headers.get("x-next-cursor")}`);
    expect([...(await json(first)), ...second, ...(await json(third))].map((j: any) => j.id)).toEqual([...made].reverse());
    expect(third.headers.get("x-next-cursor")).toBeNull();
    expect((await json(await f.request("GET", "/api/jobs?sort=oldest&limit=2"))).map((j: any) => j.id)).toEqual(made.slice(0, 2));
    expect((await json(await f.request("GET", "/api/jobs?sort=next_due&limit=1")))[0].id).toBe(made[4]);
    expect((await json(await f.request("GET", "/api/jobs?sort=last_due&limit=1")))[0].id).toBe(made[0]);
  });

  test.each([
    ["status=bogus", "status"], ["queue=Bad Queue", "queue"], ["kind=9x", "kind"], ["sort=random", "sort"],
    ["limit=0", "limit"], ["limit=abc", "limit"], ["cursor=nonsense", "cursor"], [`q=${"x".repeat(201)}`, "q"],
  ])("a bad list parameter (%s) is a 422 naming it", async (qs, field) => {
    const r = await f.request("GET", `/api/jobs?${qs}`);
    expect(r.status).toBe(422);
    expect((await json(r)).field).toBe(field);
  });
});

describe("one job", () => {
  test("GET /api/jobs/:id returns the job; an unknown id is 404; a non-UUID is 422", async () => {
    const id = await insertJob(f.db);
    expect((await json(await f.request("GET", `/api/jobs/${id}`))).id).toBe(id);
    expect((await f.request("GET", `/api/jobs/${MISSING}`)).status).toBe(404);
    const bad = await f.request("GET", "/api/jobs/not-a-uuid");
    expect(bad.status).toBe(422);
    expect((await json(bad)).field).toBe("id");
    expect((await f.request("GET", "/api/jobs/'%20OR%201=1")).status).toBe(422);
  });
});

describe("POST /api/jobs", () => {
  test("enqueues a Claude job from prompt and cwd, with the options given", async () => {
    const r = await f.request("POST", "/api/jobs", { json: { prompt: "hi", cwd: "/tmp", queue: "high", priority: 7, max_attempts: 2, model: "sonnet", delay: "10m" } });
    expect(r.status).toBe(201);
    const job = await json(r);
    expect(r.headers.get("location")).toBe(`/api/jobs/${job.id}`);
    expect(job).toMatchObject({ kind: "claude", queue: "high", priority: 7, maxAttempts: 2, status: "queued" });
    expect(job.payload).toEqual({ prompt: "hi", cwd: "/tmp", model: "sonnet" });
    expect(new Date(job.runAt).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
  });

  test("enqueues any kind with a payload", async () => {
    const r = await f.request("POST", "/api/jobs", { json: { kind: "mail", payload: { to: "x@y.z" } } });
    expect(r.status).toBe(201);
    expect((await json(r)).payload).toEqual({ to: "x@y.z" });
  });

  test.each([
    [{ cwd: "/tmp" }, "payload.prompt"],
    [{ prompt: "hi" }, "payload.cwd"],
    [{ prompt: "hi", cwd: "/no/such/dir" }, "payload.cwd"],
    [{ prompt: "", cwd: "/tmp" }, "prompt"],
    [{ prompt: 5, cwd: "/tmp" }, "prompt"],
    [{ prompt: "hi", cwd: "/tmp", priority: 5000 }, "priority"],
    [{ prompt: "hi", cwd: "/tmp", priority: 1.5 }, "priority"],
    [{ prompt: "hi", cwd: "/tmp", max_attempts: 0 }, "max_attempts"],
    [{ prompt: "hi", cwd: "/tmp", queue: "Bad Queue" }, "queue"],
    [{ prompt: "hi", cwd: "/tmp", delay: "soon" }, "delay"],
    [{ prompt: "hi", cwd: "/tmp", run_at: "tomorrow" }, "run_at"],
    [{ prompt: "hi", cwd: "/tmp", kind: "Bad Kind" }, "kind"],
    [{ prompt: "hi", cwd: "/tmp", promt: "typo" }, "promt"],
  ])("a bad body %j is a 422 naming %s and writes nothing", async (body, field) => {
    const before = (await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    const r = await f.request("POST", "/api/jobs", { json: body });
    expect(r.status).toBe(422);
    const err = await json(r);
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
    expect((await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
  });

  test("malformed JSON is a 400; a body over the limit is a 413", async () => {
    const bad = await f.app.handle(new Request("http://localhost/api/jobs", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${f.token}` }, body: "{nope" }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).field).toBe("body");
    const big = await f.request("POST", "/api/jobs", { json: { prompt: "x".repeat(1_100_000), cwd: "/tmp" } });
    expect(big.status).toBe(413);
  });
});

describe("actions", () => {
  test("cancel: a queued job ends cancelled; a running one gets a cancel request; a finished one is 409", async () => {
    const queued = await insertJob(f.db);
    const running = await insertJob(f.db, { status: "running" });
    const done = await insertJob(f.db, { status: "finished" });
    expect((await json(await f.request("POST", `/api/jobs/${queued}/cancel`))).status).toBe("cancelled");
    const r = await json(await f.request("POST", `/api/jobs/${running}/cancel`));
    expect(r.status).toBe("running");
    expect(r.cancelRequestedAt).not.toBeNull();
    expect((await f.request("POST", `/api/jobs/${done}/cancel`)).status).toBe(409);
    expect((await f.request("POST", `/api/jobs/${MISSING}/cancel`)).status).toBe(404);
    expect((await f.request("POST", "/api/jobs/zzz/cancel")).status).toBe(422);
  });

  test("retry a failed job; retrying a queued one is 409", async () => {
    const failed = await insertJob(f.db, { status: "failed" });
    expect((await json(await f.request("POST", `/api/jobs/${failed}/retry`))).status).toBe("queued");
    expect((await f.request("POST", `/api/jobs/${failed}/retry`)).status).toBe(409);
  });

  test("run now makes a scheduled job due", async () => {
    const later = await insertJob(f.db, { runInSeconds: 3600 });
    const job = await json(await f.request("POST", `/api/jobs/${later}/run-now`));
    expect(new Date(job.runAt).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  test("delete removes a job that is not running; a running one is 409", async () => {
    const done = await insertJob(f.db, { status: "finished" });
    const running = await insertJob(f.db, { status: "running" });
    expect((await f.request("DELETE", `/api/jobs/${done}`)).status).toBe(204);
    expect(await statusOf(f.db, done)).toBeUndefined();
    expect((await f.request("DELETE", `/api/jobs/${running}`)).status).toBe(409);
  });

  test("bulk cancel of ids and bulk retry of a filter", async () => {
    const a = await insertJob(f.db, { queue: "bulk" });
    const b = await insertJob(f.db, { queue: "bulk", status: "running" });
    const c = await insertJob(f.db, { queue: "bulk", status: "finished" });
    const r = await json(await f.request("POST", "/api/jobs/bulk", { json: { action: "cancel", ids: [a, b, c] } }));
    expect(r).toMatchObject({ action: "cancel", matched: 3, changed: 2 });
    expect(await statusOf(f.db, a)).toBe("cancelled");
    const retry = await json(await f.request("POST", "/api/jobs/bulk", { json: { action: "retry", filter: { queue: "bulk", status: "cancelled" } } }));
    expect(retry.changed).toBe(1);
    expect(await statusOf(f.db, a)).toBe("queued");
    expect((await f.request("POST", "/api/jobs/bulk", { json: { action: "explode", ids: [] } })).status).toBe(422);
    expect((await f.request("POST", "/api/jobs/bulk", { json: { action: "retry", ids: ["nope"] } })).status).toBe(422);
    expect((await f.request("POST", "/api/jobs/bulk", { json: { action: "retry", filter: { status: "nope" } } })).status).toBe(422);
  });
});

describe("operations endpoints", () => {
  test("GET /metrics is Prometheus text with jobs by status and queue, durations and workers", async () => {
    await insertJob(f.db, { status: "finished", queue: "metrics" });
    const r = await f.request("GET", "/metrics");
    expect(r.headers.get("content-type")).toContain("text/plain");
    const text = await r.text();
    expect(text).toContain('claude_jobs_jobs{queue="metrics",status="finished"} 1');
    expect(text).toMatch(/claude_jobs_job_duration_seconds_bucket\{queue="metrics",status="finished",le="10"\} 1/);
    expect(text).toContain("claude_jobs_workers 0");
  });

  test("GET /healthz says the database is reachable", async () => {
    expect(await json(await f.request("GET", "/healthz"))).toEqual({ ok: true });
  });

  test("workers, throughput and the OpenAPI document", async () => {
    expect(await json(await f.request("GET", "/api/workers"))).toEqual([]);
    expect((await json(await f.request("GET", "/api/throughput"))).length).toBe(60);
    const doc = await json(await f.request("GET", "/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
  });

  test("every API route is in the OpenAPI document", () => {
    const documented = new Set(Object.entries(OPENAPI.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ":$1")}`)));
    const api = f.app.routes.filter((r) => r.path.startsWith("/api/") || ["/metrics", "/healthz", "/openapi.json"].includes(r.path));
    for (const r of api) expect(documented).toContain(`${r.method} ${r.path}`);
  });
});
