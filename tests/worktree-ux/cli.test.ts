// claude-jobs diff / discard / follow-up as a user runs them (real child
// processes, a real database, real repositories): plain output when piped,
// colours only when asked, no control sequence of a file name or content
// ever sent, the exact patch with --patch, the commands to merge and push
// shown (never run), exit codes for each refusal, and what changed.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { finishedWorktreeJob, git, insertClaudeJob, makeRepo, writeFiles } from "./helpers.ts";

// Each CLI run is a fresh Bun process.
setDefaultTimeout(30_000);

let db: TestDatabase;
let url: string;
beforeAll(async () => {
  db = await createTestDatabase();
  url = `--database-url=${db.url}`;
});
afterAll(() => db.drop());

const ESC_NAME = "evil\x1b]0;pwned\x07.txt";
const ESC_LINE = "clear \x1b[2J screen \x9b31m and \u202eevil";

describe("claude-jobs diff", () => {
  let id = "";
  let record: Awaited<ReturnType<typeof finishedWorktreeJob>>["record"];
  let repo = "";
  let base = "";
  beforeAll(async () => {
    ({ repo, base } = makeRepo({ "app.js": "let a = 1;\n" }));
    ({ id, record } = await finishedWorktreeJob(db, repo, base, (dir) => {
      writeFiles(dir, { "app.js": "let a = 2;\n", [ESC_NAME]: `${ESC_LINE}\n`, "<b>x</b>.txt": "<i>y</i>\n" });
    }));
  });

  test("piped: plain text, the stat, each file's hunks, and the commands to merge or push", async () => {
    const { code, stdout, stderr } = await runCli(["diff", id, url]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).not.toContain("\x1b");
    expect(stdout).toContain(`branch ${record.branch}`);
    expect(stdout).toMatch(/ app\.js\s+\|\s+2 \+-/);
    expect(stdout).toContain("3 files changed, 3 insertions(+), 1 deletion(-)");
    expect(stdout).toContain("── modified app.js");
    expect(stdout).toContain("@@ -1 +1 @@");
    expect(stdout).toContain("\n-let a = 1;\n+let a = 2;\n");
    expect(stdout).toContain("<b>x</b>.txt");
    expect(stdout).toContain(`git -C ${repo} merge ${record.branch}`);
    expect(stdout).toContain(`git -C ${repo} push origin ${record.branch}`);
    expect(stdout).toContain(`claude-jobs follow-up ${id}`);
    // Nothing was merged or pushed: the user's checkout is where it was.
    expect(git(repo, "rev-parse", "HEAD").trim()).toBe(base);
  });

  test("no control sequence of a file name or line reaches the terminal: shown, quoted on one line", async () => {
    const { stdout } = await runCli(["diff", id, url]);
    expect(stdout).not.toMatch(/[\x07\x1b\x9b\u202e]/);
    expect(stdout).toContain("evil\\u001b]0;pwned\\u0007.txt");
    expect(stdout).toContain("+clear ␛[2J screen \\x9b31m and \\u202eevil");
  });

  test("colours with --color=always, none with NO_COLOR or --color=never", async () => {
    const colored = await runCli(["diff", id, "--color=always", url]);
    expect(colored.stdout).toContain("\x1b[32m+let a = 2;\x1b[0m");
    expect(colored.stdout).toContain("\x1b[31m-let a = 1;\x1b[0m");
    // Only our own colour sequences: still none from the data.
    expect(colored.stdout.replace(/\x1b\[\d*m/g, "")).not.toMatch(/[\x07\x1b\x9b]/);
    const never = await runCli(["diff", id, "--color=never", url], { env: cliEnv({ NO_COLOR: "1" }) });
    expect(never.stdout).not.toContain("\x1b");
    const bad = await runCli(["diff", id, "--color=sometimes", url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--color: must be auto, always or never");
  });

  test("--stat prints the stat alone; --json the diff as data; --patch the exact patch git apply takes", async () => {
    const stat = await runCli(["diff", id, "--stat", url]);
    expect(stat.stdout).toContain("3 files changed");
    expect(stat.stdout).not.toContain("@@");
    const json = JSON.parse((await runCli(["diff", id, "--json", url])).stdout);
    expect(json.state).toBe("ready");
    expect(json.files.map((f: { path: string }) => f.path)).toContain(ESC_NAME);
    const patch = await runCli(["diff", id, "--patch", url]);
    expect(patch.code).toBe(0);
    expect(patch.stdout).toContain(ESC_LINE);
    const check = spawnSync("git", ["apply", "--check", "-"], { cwd: record.path, input: patch.stdout });
    // The branch already has these changes: applying it in reverse must fit exactly.
    const reverse = spawnSync("git", ["apply", "--check", "--reverse", "-"], { cwd: record.path, input: patch.stdout });
    expect(reverse.status).toBe(0);
    expect(check.status).not.toBe(0);
  });

  test("refusals: a bad id exits 2, an unknown job 1, a job with no worktree 1 with the reason, a discarded branch 1", async () => {
    const bad = await runCli(["diff", "nope", url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("id: must be a job id");
    const unknown = await runCli(["diff", "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d", url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no job with id");
    const plain = await insertClaudeJob(db, { payload: { prompt: "p", cwd: "/tmp" } });
    const none = await runCli(["diff", plain, url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("did not run in a worktree");
    const { repo: r, base: b } = makeRepo();
    const gone = await finishedWorktreeJob(db, r, b, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    git(r, "worktree", "remove", "--force", gone.record.path);
    git(r, "branch", "-D", gone.record.branch);
    const discarded = await runCli(["diff", gone.id, url]);
    expect(discarded.code).toBe(1);
    expect(discarded.stdout).toBe("");
    expect(discarded.stderr).toContain("The branch is gone");
  });
});

describe("claude-jobs discard", () => {
  test("says what it removed; a second time, that nothing was left; a running job is refused (exit 1) and kept", async () => {
    const { repo, base } = makeRepo();
    const { id, record } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const first = await runCli(["discard", id, url]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`removed the worktree folder ${record.path}`);
    expect(first.stdout).toContain(`the branch ${record.branch}`);
    expect(existsSync(record.path)).toBe(false);
    expect(git(repo, "branch", "--list", record.branch)).toBe("");
    const second = await runCli(["discard", id, url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Nothing to remove");

    const running = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "b.txt": "b\n" }), { status: "running" });
    const refused = await runCli(["discard", running.id, url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is running in its worktree; cancel it first");
    expect(existsSync(running.record.path)).toBe(true);
    expect(git(repo, "branch", "--list", running.record.branch)).not.toBe("");
  });
});

describe("claude-jobs follow-up", () => {
  test("prints the new job's id; the job resumes the session on the same worktree", async () => {
    const { repo, base } = makeRepo();
    const session = crypto.randomUUID();
    const { id } = await finishedWorktreeJob(db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }), { sessionId: session });
    const r = await runCli(["follow-up", id, "now the tests", url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const [row] = await db.sql`SELECT payload, status FROM claude_jobs WHERE id = ${r.stdout.trim()}`;
    expect(row!.payload).toMatchObject({ prompt: "now the tests", worktree: true, worktree_of: id, resume: session, cwd: repo });
    expect(r.stderr).toContain(`follow-up of ${id}`);
    const fromStdin = await runCli(["follow-up", id, "-", url], { stdin: "a prompt\nfrom stdin\n" });
    expect(fromStdin.code).toBe(0);
    const [row2] = await db.sql`SELECT payload FROM claude_jobs WHERE id = ${fromStdin.stdout.trim()}`;
    expect(row2!.payload.prompt).toBe("a prompt\nfrom stdin\n");
  });

  test("bad input exits 2 and enqueues nothing", async () => {
    const [{ n: before }] = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`) as unknown as [{ n: number }];
    const noPrompt = await runCli(["follow-up", "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d", url]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toContain("expects <id> <prompt>");
    const plain = await insertClaudeJob(db, { payload: { prompt: "p", cwd: "/tmp" }, result: { sessionId: crypto.randomUUID() } });
    const notWorktree = await runCli(["follow-up", plain, "x", url]);
    expect(notWorktree.code).toBe(2);
    expect(notWorktree.stderr).toContain("did not run in a worktree");
    const [{ n: after }] = (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`) as unknown as [{ n: number }];
    expect(after).toBe(before + 1);
  });

  test("the help lists diff, follow-up and discard", async () => {
    const { stdout } = await runCli(["--help"]);
    for (const name of ["diff", "follow-up", "discard"]) expect(stdout).toMatch(new RegExp(`\\n  ${name} +\\S`));
  });
});
