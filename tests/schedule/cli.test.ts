// `claude-jobs cron ...` as a user runs it: exit codes, what it prints, and
// that bad input (an expression, a time zone, a policy, a payload) exits 2
// and changes nothing.

import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, spawnCli } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let env: Record<string, string>;
const cron = (...args: string[]) => runCli(["cron", ...args], { env });
const rows = async () => [...await db.sql`SELECT name, expression, timezone, missed, missed_limit, kind, queue, priority, payload, paused_at IS NOT NULL AS paused
                          FROM claude_job_schedules ORDER BY name`];

beforeAll(async () => {
  db = await createTestDatabase();
  env = cliEnv({ DATABASE_URL: db.url });
});
beforeEach(async () => {
  await db.sql`DELETE FROM claude_job_schedules`;
  await db.sql`DELETE FROM claude_jobs`;
});
afterAll(() => db.drop());

describe("cron add and list", () => {
  test("adds a schedule with its template; list shows next run, and last run with its job once run", async () => {
    const added = await cron("add", "nightly", "30 2 * * *", '--payload={"prompt":"triage new issues","cwd":"/tmp"}',
      "--queue=nightly", "--priority=5", "--timezone=Europe/Paris", "--missed=all:3");
    expect(added.code).toBe(0);
    expect(added.stderr).toBe("warning: no worker is running; workers enqueue the slots of schedules, so nothing runs until one starts (claude-jobs worker)\n");
    expect(added.stdout).toMatch(/^schedule "nightly" added: 30 2 \* \* \* \(Europe\/Paris, missed: all:3\), kind claude on queue nightly; next run \d{4}-\d\d-\d\d 02:30\+0[12]:00\n$/);
    expect(await rows()).toEqual([{
      name: "nightly", expression: "30 2 * * *", timezone: "Europe/Paris", missed: "all", missed_limit: 3, kind: "claude", queue: "nightly",
      priority: 5, payload: expect.objectContaining({ prompt: "triage new issues", cwd: "/tmp" }), paused: false,
    }]);

    const ran = await cron("run", "nightly");
    expect(ran.code).toBe(0);
    const jobId = ran.stdout.trim();
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const list = await cron("list");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+EXPRESSION\s+TIMEZONE\s+MISSED\s+STATE\s+KIND@QUEUE\s+NEXT RUN\s+LAST RUN\s+LAST JOB\n/);
    expect(list.stdout).toContain(`${jobId} (queued)`);
    expect(list.stdout).toMatch(/nightly\s+30 2 \* \* \*\s+Europe\/Paris\s+all:3\s+active\s+claude@nightly/);

    const json = JSON.parse((await cron("list", "--json")).stdout);
    expect(json).toEqual([expect.objectContaining({
      name: "nightly", expression: "30 2 * * *", timezone: "Europe/Paris", missed: "all:3", paused: false, lastJobId: jobId, lastJobStatus: "queued",
      nextRunAt: expect.stringMatching(/:30:00\.000Z$/), job: expect.objectContaining({ kind: "claude", queue: "nightly", priority: 5 }),
    })]);
  });

  test("adding a name again replaces it", async () => {
    await cron("add", "r", "@hourly", "--kind=ping", "--payload={}");
    const again = await cron("add", "r", "@daily", "--kind=ping", '--payload={"v":2}', "--missed=skip");
    expect(again.stdout).toStartWith('schedule "r" replaced: @daily (UTC, missed: skip)');
    expect(await rows()).toEqual([expect.objectContaining({ name: "r", expression: "@daily", missed: "skip", payload: { v: 2 } })]);
  });

  test("an empty list says how to add one", async () => {
    expect(await cron("list")).toMatchObject({ code: 0, stdout: expect.stringContaining("no schedules") });
    expect(JSON.parse((await cron("list", "--json")).stdout)).toEqual([]);
  });
});

describe("bad input exits 2, names what is wrong and changes nothing", () => {
  test.each([
    [["add", "x", "61 * * * *", "--payload={}"], /^claude-jobs cron: expression: must be a 5-field cron expression .*\(Invalid value for minute: 61\)\n$/],
    [["add", "x", "* * * *", "--payload={}"], /^claude-jobs cron: expression: has too few fields/],
    [["add", "x", "@every5m", "--payload={}"], /^claude-jobs cron: expression: must be .*@hourly; got "@every5m"/],
    [["add", "x", "@hourly", "--payload={}", "--timezone=Paris"], /^claude-jobs cron: --timezone: must be an IANA time zone name like UTC, Europe\/Paris or America\/New_York; got "Paris"/],
    [["add", "x", "@hourly", "--payload={}", "--missed=twice"], /^claude-jobs cron: --missed: must be skip, once or all:N \(N from 1 to 1000\); got "twice"/],
    [["add", "x", "@hourly"], /^claude-jobs cron: --payload: is required/],
    [["add", "x", "@hourly", "--payload=[1]"], /^claude-jobs cron: --payload: must be a JSON object/],
    [["add", "x", "@hourly", '--payload={"cwd":"/tmp"}'], /^claude-jobs cron: payload\.prompt: /],
    [["add", "x", "@hourly", "--payload={}", "--kind=ping", "--priority=high"], /^claude-jobs cron: --priority: must be an integer; got "high"/],
    [["add", "x", "@hourly", "--payload={}", "--kind=ping", "--priority=5000"], /^claude-jobs cron: priority: must be an integer from -1000 to 1000/],
    [["add", "a/b", "@hourly", "--payload={}", "--kind=ping"], /^claude-jobs cron: name: must be 1-100 characters, without control characters or '\/'/],
    [["add", "x"], /^claude-jobs cron: expression: is required/],
    [["add"], /^claude-jobs cron: name: cron add needs the schedule's name/],
    [["pause"], /^claude-jobs cron: name: cron pause needs the schedule's name/],
    [["list", "x"], /^claude-jobs cron: arguments: cron list takes no name/],
    [["pause", "x", "--queue=q"], /^claude-jobs cron: --queue: only applies to cron add/],
    [["stop", "x"], /^claude-jobs cron: action: must be add, list, remove, pause, resume, run; got "stop"/],
  ])("cron %p", async (args, message) => {
    const result = await cron(...(args as string[]));
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(await rows()).toEqual([]);
  });

  test("a bad replacement leaves the schedule as it was", async () => {
    await cron("add", "keep", "@hourly", "--kind=ping", '--payload={"v":1}');
    const before = await rows();
    expect((await cron("add", "keep", "0 0 31 2 *", "--kind=ping", '--payload={"v":2}')).code).toBe(2);
    expect(await rows()).toEqual(before);
  });
});

describe("remove, pause, resume, run", () => {
  test("each changes what it says; unknown names exit 1 naming the schedule", async () => {
    await cron("add", "s", "*/5 * * * *", "--kind=ping", "--payload={}");
    expect(await cron("pause", "s")).toMatchObject({ code: 0, stdout: expect.stringContaining('schedule "s" paused') });
    expect((await rows())[0]!.paused).toBe(true);
    expect(JSON.parse((await cron("list", "--json")).stdout)[0]).toMatchObject({ paused: true });
    const resumed = await cron("resume", "s");
    expect(resumed.stdout).toMatch(/^schedule "s" resumed: .*next run \d{4}-\d\d-\d\d \d\d:\d[05]Z\n$/);
    // In the schedule's zone, with its offset: the time as the expression reads it.
    await cron("add", "ny", "0 9 * * *", "--kind=ping", "--payload={}", "--timezone=America/New_York");
    expect((await cron("list")).stdout).toMatch(/\bny\s+0 9 \* \* \*\s+America\/New_York\s+once\s+active\s+ping@default\s+\d{4}-\d\d-\d\d 09:00-0[45]:00\s+-\s+-\n/);
    await cron("remove", "ny");
    expect((await rows())[0]!.paused).toBe(false);
    const jobId = (await cron("run", "s")).stdout.trim();
    expect([...await db.sql`SELECT kind, status, schedule_name FROM claude_jobs WHERE id = ${jobId}`]).toEqual([{ kind: "ping", status: "queued", schedule_name: "s" }]);
    expect(await cron("remove", "s")).toMatchObject({ code: 0, stdout: 'schedule "s" removed (its jobs stay)\n' });
    expect(await rows()).toEqual([]);

    for (const action of ["remove", "pause", "resume", "run"]) {
      const result = await cron(action, "s");
      expect(result).toMatchObject({ code: 1, stdout: "", stderr: `claude-jobs cron: no schedule named "s"\n` });
    }
    expect(await db.sql`SELECT id FROM claude_jobs`).toHaveLength(1);
  });

  test("help lists the actions and the flags", async () => {
    const help = await runCli(["help", "cron"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("claude-jobs cron add <name>");
    expect(help.stdout).toContain("--missed=<value>");
    expect((await runCli(["--help"], { env })).stdout).toMatch(/\n  cron +Recurring jobs/);
  });
});

describe("claude-jobs worker", () => {
  test("runs the scheduler: a due slot becomes one job, and the schedule moves to its next slot", async () => {
    await cron("add", "due", "* * * * *", "--kind=ping", "--queue=cron-test", '--payload={"n":1}');
    // Due a few minutes ago, as if no worker had run since: no waiting for a real slot.
    await db.sql`UPDATE claude_job_schedules SET next_run_at = date_trunc('minute', now()) - interval '3 minutes'`;
    const worker = spawnCli(["worker", "--queues=elsewhere", "--concurrency=1"], env);
    try {
      const [job] = await waitFor("the slot's job", async () => {
        const rows = await db.sql`SELECT kind, queue, payload, schedule_slot FROM claude_jobs WHERE schedule_name = 'due'`;
        return rows.length > 0 && rows;
      }, { timeoutMs: 20_000 });
      expect(job).toMatchObject({ kind: "ping", queue: "cron-test", payload: { n: 1 } });
      const [schedule] = await db.sql`SELECT next_run_at > now() AS ahead, last_run_at >= ${job!.schedule_slot} AS last FROM claude_job_schedules`;
      expect(schedule).toEqual({ ahead: true, last: true });
      // once (the default): one catch-up job for the four due slots, not one per slot (a
      // minute that turns meanwhile adds its own slot, later than this one).
      expect(await db.sql`SELECT 1 FROM claude_jobs WHERE schedule_slot <= ${job!.schedule_slot}`).toHaveLength(1);
      // With a worker running that serves neither the kind nor the queue, add says so.
      const added = await cron("add", "other", "@daily", "--kind=ping", "--queue=cron-test", "--payload={}");
      expect(added).toMatchObject({ code: 0, stderr: 'warning: no live worker handles kind "ping" on queue "cron-test"; its jobs wait until one does (claude-jobs worker --queues=cron-test)\n' });
    } finally {
      worker.proc.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    }
  });
});
