// enqueue's flow flags from the outside: --unique-key (a duplicate prints the
// holder's id and says so on stderr), --after and "after" in --file lines
// (earlier line numbers), --concurrency-key/--concurrency-limit; and the same
// through POST /api/jobs (201 new, 200 duplicate). Bad values exit 2 and
// write nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { runCli, tempDir } from "../helpers/cli.ts";
import { webFixture, type WebFixture } from "../web/helpers.ts";

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(() => db.drop());

const cli = (...args: string[]) => runCli(["enqueue", "--kind=mail", ...args, `--database-url=${db.url}`]);
const count = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;

describe("enqueue flags", () => {
  test("--unique-key: the second enqueue prints the first job's id and says it was a duplicate", async () => {
    const first = await cli("--payload={}", "--unique-key=digest:2026-12-01");
    expect(first.code).toBe(0);
    const id = first.stdout.trim();
    expect(first.stderr).not.toContain("duplicate");
    const second = await cli('--payload={"n":2}', "--unique-key=digest:2026-12-01");
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(id);
    expect(second.stderr).toContain(`duplicate: job ${id} (queued) holds unique key "digest:2026-12-01"; nothing was inserted`);
    const [row] = await db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE unique_key = 'digest:2026-12-01'`;
    expect(row!.n).toBe(1);
  });

  test("--after (repeatable) makes a waiting job; --concurrency-key/--concurrency-limit are stored", async () => {
    const a = (await cli("--payload={}")).stdout.trim();
    const b = (await cli("--payload={}")).stdout.trim();
    const child = await cli("--payload={}", `--after=${a}`, `--after=${b}`, "--concurrency-key=smtp", "--concurrency-limit=4");
    expect(child.code).toBe(0);
    expect(child.stderr).toContain("the job waits for the jobs given in --after");
    const [job] = await db.sql`SELECT status, concurrency_key, concurrency_limit FROM claude_jobs WHERE id = ${child.stdout.trim()}`;
    expect(job).toEqual({ status: "waiting", concurrency_key: "smtp", concurrency_limit: 4 });
    const deps = await db.sql`SELECT parent_id FROM claude_job_deps WHERE job_id = ${child.stdout.trim()} ORDER BY parent_id`;
    expect(deps.map((d) => d.parent_id)).toEqual([a, b].sort());
  });

  test("a --file line may wait for an earlier line by its number; duplicates are reported by line", async () => {
    const dir = tempDir("enqueue-flow-");
    const file = join(dir, "jobs.jsonl");
    writeFileSync(file, [
      JSON.stringify({ kind: "mail", payload: { step: "build" }, unique_key: "build-42" }),
      "",
      JSON.stringify({ kind: "mail", payload: { step: "test" }, after: [1] }),
      JSON.stringify({ kind: "mail", payload: { step: "again" }, unique_key: "build-42" }),
      JSON.stringify({ kind: "mail", payload: { step: "ship" }, after: [3, 4], concurrency_key: "ship", concurrency_limit: 1 }),
    ].join("\n"));
    const r = await runCli(["enqueue", `--file=${file}`, `--database-url=${db.url}`]);
    expect(r.code).toBe(0);
    const [build, test1, again, ship] = r.stdout.trim().split("\n");
    expect(again).toBe(build);
    expect(r.stderr).toContain(`line 4: duplicate: job ${build}`);
    const deps = await db.sql`SELECT job_id, parent_id FROM claude_job_deps WHERE job_id IN (${test1!}, ${ship!}) ORDER BY job_id, parent_id`;
    expect(deps.map((d) => [d.job_id, d.parent_id])).toEqual([[test1, build], ...[[ship, test1], [ship, build]].sort((x, y) => x[1]!.localeCompare(y[1]!))]);
  });

  test("bad values exit 2, name the flag or line, and write nothing", async () => {
    const before = await count();
    const dir = tempDir("enqueue-flow-bad-");
    const forward = join(dir, "forward.jsonl");
    writeFileSync(forward, [JSON.stringify({ kind: "mail", payload: {}, after: [2] }), JSON.stringify({ kind: "mail", payload: {} })].join("\n"));
    const cases: [string[], RegExp][] = [
      [["--payload={}", "--concurrency-limit=3"], /concurrency_limit: needs a concurrency key/],
      [["--payload={}", "--concurrency-key=k", "--concurrency-limit=lots"], /--concurrency-limit: must be an integer/],
      [["--payload={}", "--unique-key=k", "--unique-states=finished"], /unique_states: must include queued and running/],
      [["--payload={}", "--after=not-an-id"], /after\[0\]: must be a job id/],
      [["--payload={}", "--after=0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d"], /after\[0\]: no job with id/],
      [[`--file=${forward}`], /--file line 1: after\[0\]: must be a job id or the number of an earlier line/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    expect(await count()).toBe(before);
  });
});

describe("POST /api/jobs", () => {
  let f: WebFixture;
  beforeAll(async () => { f = await webFixture(); });
  afterAll(() => f.db.drop());

  test("201 for a new job, 200 and duplicate: true with the holder for a held unique key", async () => {
    const body = { kind: "mail", payload: {}, unique_key: "nightly", unique_states: ["queued", "running", "finished"] };
    const first = await f.request("POST", "/api/jobs", { json: body });
    expect(first.status).toBe(201);
    const created = (await first.json()) as { id: string; duplicate: boolean; uniqueKey: string };
    expect(created.duplicate).toBe(false);
    expect(created.uniqueKey).toBe("nightly");
    const second = await f.request("POST", "/api/jobs", { json: body });
    expect(second.status).toBe(200);
    const dup = (await second.json()) as { id: string; duplicate: boolean };
    expect(dup).toMatchObject({ id: created.id, duplicate: true });
    expect(second.headers.get("location")).toBe(`/api/jobs/${created.id}`);
  });

  test("after and concurrency_limit through the API; bad ones are 422 naming the field", async () => {
    const parent = (await (await f.request("POST", "/api/jobs", { json: { kind: "mail", payload: {} } })).json()) as { id: string };
    const child = await f.request("POST", "/api/jobs", { json: { kind: "mail", payload: {}, after: [parent.id], concurrency_key: "k", concurrency_limit: 2 } });
    expect(child.status).toBe(201);
    expect(await child.json()).toMatchObject({ status: "waiting", concurrencyKey: "k", concurrencyLimit: 2 });
    for (const [json, field] of [
      [{ kind: "mail", payload: {}, after: ["x"] }, "after"],
      [{ kind: "mail", payload: {}, concurrency_limit: 2 }, "concurrency_limit"],
      [{ kind: "mail", payload: {}, unique_key: "k", unique_states: ["running"] }, "unique_states"],
    ] as const) {
      const r = await f.request("POST", "/api/jobs", { json });
      expect(r.status).toBe(422);
      expect(((await r.json()) as { message: string }).message).toContain(field);
    }
  });
});

describe("what a job runs after, and what runs after it", () => {
  test("show lists both (and --json has them); the API and the job page too, escaped", async () => {
    const parent = (await cli('--payload={}')).stdout.trim();
    await db.sql`UPDATE claude_jobs SET kind = 'claude', payload = ${db.sql.json({ prompt: "<b>build</b> it", cwd: "/tmp" })} WHERE id = ${parent}`;
    const child = (await cli("--payload={}", `--after=${parent}`)).stdout.trim();
    const text = await runCli(["show", child, `--database-url=${db.url}`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`runs after:\n  ${parent}  queued  claude  <b>build</b> it`);
    const ofParent = await runCli(["show", parent, `--database-url=${db.url}`]);
    expect(ofParent.stdout).toContain(`runs before:\n  ${child}  waiting  mail`);
    const json = JSON.parse((await runCli(["show", child, "--json", `--database-url=${db.url}`])).stdout);
    expect(json.after.map((j: { id: string }) => j.id)).toEqual([parent]);
    expect(json.dependents).toEqual([]);
  });
});

describe("dependencies in the dashboard and API", () => {
  let f: WebFixture;
  beforeAll(async () => { f = await webFixture(); });
  afterAll(() => f.db.drop());

  test("GET /api/jobs/:id/dependencies and the job page's Dependencies section", async () => {
    const parent = await f.queue.enqueue({ kind: "claude", payload: { prompt: "<img src=x onerror=alert(1)>", cwd: "/tmp" } });
    const child = await f.queue.enqueue({ kind: "mail", payload: {}, after: [parent] });
    const api = await f.request("GET", `/api/jobs/${child}/dependencies`);
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ parents: [{ id: parent, status: "queued", kind: "claude" }], dependents: [] });
    expect((await f.request("GET", "/api/jobs/0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d/dependencies")).status).toBe(404);
    const page = await (await f.request("GET", `/jobs/${child}`)).text();
    expect(page).toContain("Waiting for 1 of 1 job to finish");
    expect(page).toContain(`href="/jobs/${parent}"`);
    const parentPage = await (await f.request("GET", `/jobs/${parent}`)).text();
    expect(parentPage).toContain("Runs before");
    expect(parentPage).toContain(`href="/jobs/${child}"`);
    expect(parentPage).not.toContain("<img src=x");
    expect(parentPage).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});

describe("POST /api/jobs with a webhook", () => {
  let f: WebFixture;
  beforeAll(async () => { f = await webFixture(); });
  afterAll(() => f.db.drop());

  test("the job and its webhook are stored together; a bad URL or a secret without a URL is 422 and stores nothing", async () => {
    const r = await f.request("POST", "/api/jobs", { json: { kind: "mail", payload: {}, webhook: "https://hooks.example.test/a", webhook_secret: "s3cret-s3cret" } });
    expect(r.status).toBe(201);
    const { id } = (await r.json()) as { id: string };
    const [hook] = await f.db.sql`SELECT url FROM claude_job_webhooks WHERE job_id = ${id}`;
    expect(hook?.url).toBe("https://hooks.example.test/a");
    const before = (await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n;
    for (const [json, field] of [
      [{ kind: "mail", payload: {}, webhook: "ftp://x.test/" }, "webhook"],
      [{ kind: "mail", payload: {}, webhook_secret: "s3cret-s3cret" }, "webhook_secret"],
    ] as const) {
      const bad = await f.request("POST", "/api/jobs", { json });
      expect(bad.status).toBe(422);
      expect(((await bad.json()) as { field?: string; message: string }).message).toContain(field);
    }
    expect((await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n).toBe(before);
  });
});
