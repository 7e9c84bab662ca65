// Notifications from the command line: enqueue --webhook (bad input names
// its flag and enqueues nothing), queue webhook set/show/clear, and a real
// `claude-jobs worker` with the fake claude that POSTs a job's end to a
// local receiver, signed with CLAUDE_JOBS_WEBHOOK_SECRET, and runs
// --notify-command with the same JSON on stdin.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { verifySignature } from "../../src/notify/sign.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, spawnCli, tempDir } from "../helpers/cli.ts";
import type { Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { Receiver } from "./helpers.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let receiver: Receiver;
const children: Child[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = new Receiver();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.exited;
  }
  receiver.reset();
});
afterAll(async () => {
  receiver.stop();
  await db.drop();
});

const cli = (args: string[], env?: Record<string, string>) => runCli([...args, `--database-url=${db.url}`], env ? { env: cliEnv(env) } : {});
const count = async (table: string) => Number((await db.sql.unsafe(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe("enqueue --webhook", () => {
  test("bad webhook flags exit non-zero naming the flag, and enqueue nothing", async () => {
    const jobs = await count("claude_jobs");
    const cases: [string[], string][] = [
      [["--webhook=ftp://example.com/x"], "--webhook:"],
      [["--webhook=nonsense"], "--webhook:"],
      [["--webhook-template={\"text\":\"{{status}}\"}"], "--webhook-template: needs --webhook"],
      [["--webhook=https://example.com/h", "--webhook-template={\"text\":{{status}}}"], "--webhook-template:"],
      [["--webhook=https://example.com/h", "--webhook-template={\"text\":\"{{secret}}\"}"], "--webhook-template:"],
      [["--webhook=https://example.com/h", "--webhook-secret="], "--webhook-secret:"],
    ];
    for (const [flags, message] of cases) {
      const r = await cli(["enqueue", "--kind=noop", "--payload={}", ...flags]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    expect(await count("claude_jobs")).toBe(jobs);
    expect(await count("claude_job_webhooks")).toBe(0);
  });

  test("a good one is stored with the job, in the enqueue's transaction; with --file, on every job", async () => {
    const r = await cli(["enqueue", "--kind=noop", "--payload={}", `--webhook=${receiver.url}`, "--webhook-secret=abc", `--webhook-template={"text":"{{status}} {{id}}"}`]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    const [row] = await db.sql`SELECT url, secret, template FROM claude_job_webhooks WHERE job_id = ${id}`;
    expect(row).toEqual({ url: receiver.url, secret: "abc", template: '{"text":"{{status}} {{id}}"}' });

    const dir = tempDir("claude-jobs-webhook-file-");
    const file = join(dir, "jobs.jsonl");
    await Bun.write(file, '{"kind":"noop","payload":{}}\n{"kind":"noop","payload":{}}\n');
    const many = await cli(["enqueue", `--file=${file}`, `--webhook=${receiver.url}`]);
    expect(many.code).toBe(0);
    const ids = many.stdout.trim().split("\n");
    expect(ids).toHaveLength(2);
    expect(await db.sql`SELECT job_id FROM claude_job_webhooks WHERE job_id = ANY(${ids}::uuid[])`).toHaveLength(2);
  });
});

describe("queue webhook", () => {
  test("sets, shows (URL redacted, secret never), replaces and clears a queue's webhook; bad input names its field and changes nothing", async () => {
    const slack = "https://hooks.slack.com/services/T0/B0/SECRETPATH";
    const set = await cli(["queue", "webhook", "team", slack, "--secret=shh", `--template={"text":"{{status}}: {{queue}} job {{id}}"}`]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("queue team");

    const shown = await cli(["queue", "webhook"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("https://hooks.slack.com/…");
    expect(shown.stdout).not.toContain("SECRETPATH");
    expect(shown.stdout).not.toContain("shh");
    const json = JSON.parse((await cli(["queue", "webhook", "team", "--json"])).stdout);
    expect(json).toEqual([expect.objectContaining({ queue: "team", url: "https://hooks.slack.com/…", hasSecret: true })]);

    const bad = await cli(["queue", "webhook", "team", "gopher://example.com/"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("url:");
    const badName = await cli(["queue", "webhook", "Bad Name", receiver.url]);
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toContain("queue:");
    const misplaced = await cli(["queue", "pause", "team", "--secret=x"]);
    expect(misplaced.code).not.toBe(0);
    expect(misplaced.stderr).toContain("--secret:");
    const [still] = await db.sql`SELECT url, secret FROM claude_job_queue_webhooks WHERE queue = 'team'`;
    expect(still).toEqual({ url: slack, secret: "shh" });
    expect((await db.sql`SELECT paused_at FROM claude_job_queues WHERE name = 'team'`)).toHaveLength(0);

    const cleared = await cli(["queue", "webhook", "team", "--clear"]);
    expect(cleared.code).toBe(0);
    expect(await count("claude_job_queue_webhooks")).toBe(0);
    expect((await cli(["queue", "webhook", "team", "--clear"])).stdout).toContain("had no webhook");
  });
});

describe("a claude-jobs worker", () => {
  test("POSTs a Claude job's end signed with CLAUDE_JOBS_WEBHOOK_SECRET, and runs --notify-command with the same JSON on stdin", async () => {
    const dir = tempDir("claude-jobs-notify-");
    const out = join(dir, "event.json");
    const env = cliEnv({ CLAUDE_JOBS_WEBHOOK_SECRET: "global-secret" });
    const enq = await runCli(["enqueue", `--payload={"prompt":"say hello","cwd":"${dir}"}`, `--webhook=${receiver.url}`, `--database-url=${db.url}`], { env });
    expect(enq.code).toBe(0);
    const id = enq.stdout.trim();
    const worker = spawnCli(["worker", `--database-url=${db.url}`, "--poll-interval=200ms", `--notify-command=cat > ${out}`,
      "--public-url=https://jobs.example.com"], env);
    children.push(worker);
    await waitFor("the webhook", () => receiver.requests.length === 1, { timeoutMs: 30_000 });
    const req = receiver.requests[0]!;
    expect(verifySignature("global-secret", req.body, req.headers["x-claude-jobs-signature"]!, new Date())).toBe(true);
    const body = JSON.parse(req.body);
    expect(body.event).toBe("job.finished");
    expect(body.job).toMatchObject({ id, kind: "claude", status: "finished", url: `https://jobs.example.com/jobs/${id}` });
    expect(body.claude).toMatchObject({ is_error: false });
    expect(typeof body.claude.session_id).toBe("string");

    await waitFor("the notify command's output", () => existsSync(out) && readFileSync(out, "utf8").endsWith("\n"), { timeoutMs: 15_000 });
    const event = JSON.parse(readFileSync(out, "utf8"));
    expect(event.event).toBe("job.finished");
    expect(event.job.id).toBe(id);
    expect(event.claude.session_id).toBe(body.claude.session_id);
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("bad notification flags of the worker exit non-zero naming the flag", async () => {
    for (const [flag, message] of [["--public-url=ftp://x", "--public-url:"], ["--notify-timeout=soon", "--notify-timeout:"], ["--webhook-timeout=0", "--webhook-timeout:"]] as const) {
      // A worker that started would run on: the deadline makes that a failure, not a hung test.
      const child = spawnCli(["worker", flag, `--database-url=${db.url}`]);
      children.push(child);
      const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "still running")]);
      const r = { code, stderr: child.stderr() };
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
  });

  test("dashboard --public-url stores the link base for every worker's events; a bad one exits naming the flag", async () => {
    const bad = await cli(["dashboard", "--public-url=ftp://jobs.example.com", "--port=0"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--public-url:");
    const dashboard = spawnCli(["dashboard", `--database-url=${db.url}`, "--port=0", "--public-url=https://jobs.example.com/"]);
    children.push(dashboard);
    await waitFor("the stored public URL", async () =>
      (await db.sql`SELECT value FROM claude_job_settings WHERE name = 'public_url'`)[0]?.value === "https://jobs.example.com/", { timeoutMs: 15_000 });
  });
});
