// The diff of a job's branch against its base, read from real repositories:
// every kind of change git reports (added, modified, deleted, renamed, type
// and mode changes, binary files), hostile file names and contents read back
// exactly, the bounds (per file, in total, in files listed) saying what they
// cut, the raw patch that git apply takes whole, and the states with no diff:
// the worktree folder pruned (the branch still gives it), the branch gone,
// the repository not here, a record that does not read.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, symlinkSync, unlinkSync, chmodSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { branchDiff, rawPatch, readWorktreeRecord, worktreeDiff, type ReadyDiff, type WorktreeRecord } from "../../src/git/diff.ts";
import { gitQuote } from "../../src/git/diff-parse.ts";
import { agentWorktree, git, makeRepo, writeFiles } from "./helpers.ts";

const HOSTILE = "<img src=x onerror=alert(1)>.txt";
const HOSTILE_CONTENT = `<script>alert("x")</script>\n</td></tr></table><b onmouseover=alert(2)>bold</b>\n`;

async function ready(record: WorktreeRecord, limits?: Parameters<typeof branchDiff>[1]): Promise<ReadyDiff> {
  const d = await branchDiff(record, limits);
  if (d.state !== "ready") throw new Error(`expected a diff, got ${JSON.stringify(d)}`);
  return d;
}

const byPath = (d: ReadyDiff, path: string) => {
  const f = d.files.find((x) => x.path === path);
  if (!f) throw new Error(`no file ${JSON.stringify(path)} in ${JSON.stringify(d.files.map((x) => x.path))}`);
  return f;
};

describe("a branch with every kind of change", () => {
  const { repo, base } = makeRepo({
    "keep.txt": "one\ntwo\nthree\n",
    "gone.txt": "delete me\n",
    "long.txt": Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join("\n") + "\n",
    "tool.sh": "echo hi\n",
    "link-me.txt": "target\n",
  });
  const record = agentWorktree(repo, base, crypto.randomUUID(), (dir) => {
    writeFiles(dir, { "keep.txt": "one\nTWO\nthree\nfour" });
    unlinkSync(join(dir, "gone.txt"));
    renameSync(join(dir, "long.txt"), join(dir, "moved.txt"));
    writeFileSync(join(dir, "moved.txt"), readFileSync(join(dir, "moved.txt"), "utf8") + "line 41\n");
    chmodSync(join(dir, "tool.sh"), 0o755);
    writeFileSync(join(dir, "image.bin"), new Uint8Array([0, 1, 2, 255, 0, 7]));
    unlinkSync(join(dir, "link-me.txt"));
    symlinkSync("keep.txt", join(dir, "link-me.txt"));
    writeFiles(dir, { "dir with space/file name.txt": "spaced\n", [HOSTILE]: HOSTILE_CONTENT, "new\nline.txt": "newline in the name\n", 'q"uote\\back.txt': "quote\n", "tab\there.txt": "tab\n", "ünïcödé.txt": "unicode\n" });
  });

  test("each file has its status, counts and hunks, with line numbers; the stat's totals add up", async () => {
    const d = await ready(record);
    expect(d.worktreePresent).toBe(true);
    expect(d.tipCommit).toBe(record.headCommit!);
    expect(d.cut).toBe(false);
    const keep = byPath(d, "keep.txt");
    expect(keep).toMatchObject({ status: "modified", insertions: 2, deletions: 1, binary: false, cut: null });
    expect(keep.hunks).toHaveLength(1);
    expect(keep.hunks[0]!.range).toBe("@@ -1,3 +1,4 @@");
    expect(keep.hunks[0]!.lines.map((l) => [l.kind, l.text, l.oldLine, l.newLine])).toEqual([
      ["context", "one", 1, 1], ["del", "two", 2, null], ["add", "TWO", null, 2], ["context", "three", 3, 3], ["add", "four", null, 4],
      ["note", "\\ No newline at end of file", null, null],
    ]);
    expect(byPath(d, "gone.txt")).toMatchObject({ status: "deleted", insertions: 0, deletions: 1 });
    expect(byPath(d, "moved.txt")).toMatchObject({ status: "renamed", oldPath: "long.txt", insertions: 1, deletions: 0 });
    expect(byPath(d, "moved.txt").similarity).toBeGreaterThan(90);
    expect(byPath(d, "tool.sh")).toMatchObject({ status: "modified", oldMode: "100644", newMode: "100755", hunks: [] });
    expect(byPath(d, "image.bin")).toMatchObject({ status: "added", binary: true, insertions: 0, deletions: 0, hunks: [] });
    const link = byPath(d, "link-me.txt");
    expect(link.status).toBe("type-changed");
    expect(link.newMode).toBe("120000");
    // git prints a type change as a deletion and an addition: both hunks belong to the one file.
    expect(link.hunks.map((h) => h.lines.filter((l) => l.kind === "add" || l.kind === "del").map((l) => l.text))).toEqual([["target"], ["keep.txt"]]);
    expect(d.totals.files).toBe(d.files.length);
    expect(d.totals.insertions).toBe(d.files.reduce((n, f) => n + f.insertions, 0));
    expect(d.totals.deletions).toBe(d.files.reduce((n, f) => n + f.deletions, 0));
    // The same totals as git's own --shortstat.
    const stat = git(repo, "diff", "--shortstat", "-M", base, record.branch);
    expect(stat).toContain(`${d.totals.files} files changed`);
    expect(stat).toContain(`${d.totals.insertions} insertions(+)`);
  });

  test("file names with spaces, newlines, quotes, tabs, HTML and non-ASCII read back exactly, with their contents", async () => {
    const d = await ready(record);
    for (const name of ["dir with space/file name.txt", "new\nline.txt", 'q"uote\\back.txt', "tab\there.txt", "ünïcödé.txt", HOSTILE]) {
      const f = byPath(d, name);
      expect(f.status).toBe("added");
      expect(f.hunks).toHaveLength(1);
    }
    expect(byPath(d, HOSTILE).hunks[0]!.lines.map((l) => l.text)).toEqual(HOSTILE_CONTENT.trimEnd().split("\n"));
    expect(byPath(d, "new\nline.txt").hunks[0]!.lines[0]!.text).toBe("newline in the name");
  });

  test("a file name that is not UTF-8 is still matched to its hunks", async () => {
    const { repo: r, base: b } = makeRepo();
    const rec = agentWorktree(r, b, crypto.randomUUID(), (dir) => {
      writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]), "latin-1 name\n");
    });
    const d = await ready(rec);
    expect(d.files).toHaveLength(1);
    expect(d.files[0]!.path).toBe("caf\ufffd.txt");
    expect(d.files[0]!.hunks[0]!.lines[0]!.text).toBe("latin-1 name");
  });

  test("gitQuote spells names as git's diff --git line does", () => {
    const header = git(repo, "-c", "core.quotepath=off", "diff", base, record.branch, "--", ":(literal)new\nline.txt", ':(literal)q"uote\\back.txt', ":(literal)tab\there.txt")
      .split("\n").filter((l) => l.startsWith("diff --git "));
    expect(header).toEqual([
      `diff --git ${gitQuote("a/new\nline.txt")} ${gitQuote("b/new\nline.txt")}`,
      `diff --git ${gitQuote('a/q"uote\\back.txt')} ${gitQuote('b/q"uote\\back.txt')}`,
      `diff --git ${gitQuote("a/tab\there.txt")} ${gitQuote("b/tab\there.txt")}`,
    ]);
    expect(gitQuote("a/\x01\x7f")).toBe('"a/\\001\\177"');
  });

  test("the raw patch is what git apply takes: applied to the base, it gives the branch's tree, binary file included", async () => {
    const stream = await rawPatch(record);
    expect(stream).not.toBeNull();
    const patch = new Uint8Array(await new Response(stream!).arrayBuffer());
    const { repo: copy } = makeRepo({});
    git(copy, "fetch", "-q", repo, base);
    git(copy, "checkout", "-q", base);
    const applied = spawnSync("git", ["apply", "--index", "-"], { cwd: copy, input: patch });
    expect(applied.stderr.toString()).toBe("");
    expect(applied.status).toBe(0);
    expect(git(copy, "write-tree").trim()).toBe(git(repo, "rev-parse", `${record.branch}^{tree}`).trim());
  });

  test("a pruned worktree folder: the branch in the repository still gives the diff", async () => {
    const { repo: r, base: b } = makeRepo();
    const rec = agentWorktree(r, b, crypto.randomUUID(), (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    git(r, "worktree", "remove", "--force", rec.path);
    expect(existsSync(rec.path)).toBe(false);
    const d = await ready(rec);
    expect(d.worktreePresent).toBe(false);
    expect(d.files.map((f) => f.path)).toEqual(["a.txt"]);
  });

  test("a follow-up moved the branch on: the diff is the whole branch, and says where this job ended", async () => {
    const { repo: r, base: b } = makeRepo();
    const rec = agentWorktree(r, b, crypto.randomUUID(), (dir) => writeFiles(dir, { "first.txt": "1\n" }));
    writeFiles(rec.path, { "second.txt": "2\n" });
    git(rec.path, "add", "-A");
    git(rec.path, "commit", "-q", "-m", "follow-up");
    const d = await ready(rec);
    expect(d.tipCommit).not.toBe(rec.headCommit!);
    expect(d.files.map((f) => f.path)).toEqual(["first.txt", "second.txt"]);
  });
});

describe("bounds: what is cut says so", () => {
  const { repo, base } = makeRepo({ "small.txt": "s\n" });
  const record = agentWorktree(repo, base, crypto.randomUUID(), (dir) => {
    writeFiles(dir, {
      "a-small.txt": "tiny\n",
      "b-huge.txt": Array.from({ length: 20_000 }, (_, i) => `huge line ${i}`).join("\n") + "\n",
      "c-after.txt": "after\n",
      "d-last.txt": "last\n",
    });
  });

  test("a file over the per-file bound is listed with its counts, without its lines", async () => {
    const d = await ready(record, { maxTotalBytes: 10 << 20, maxFileBytes: 64 << 10, maxFiles: 1000 });
    expect(byPath(d, "b-huge.txt")).toMatchObject({ cut: "file-too-large", hunks: [], insertions: 20_000 });
    expect(byPath(d, "a-small.txt").cut).toBeNull();
    expect(byPath(d, "c-after.txt").hunks).toHaveLength(1);
    expect(d.cut).toBe(true);
  });

  test("past the total bound, the file read in part and every file after it are cut; the totals still count all", async () => {
    const d = await ready(record, { maxTotalBytes: 32 << 10, maxFileBytes: 10 << 20, maxFiles: 1000 });
    expect(byPath(d, "a-small.txt").cut).toBeNull();
    expect(byPath(d, "b-huge.txt").cut).toBe("total-limit");
    expect(byPath(d, "c-after.txt").cut).toBe("total-limit");
    expect(byPath(d, "d-last.txt").cut).toBe("total-limit");
    expect(d.totals).toEqual({ files: 4, insertions: 20_003, deletions: 0 });
    expect(d.cut).toBe(true);
  });

  test("more files than the list holds: the rest are counted, not listed", async () => {
    const d = await ready(record, { maxTotalBytes: 10 << 20, maxFileBytes: 10 << 20, maxFiles: 2 });
    expect(d.files.map((f) => f.path)).toEqual(["a-small.txt", "b-huge.txt"]);
    expect(d.unlistedFiles).toBe(2);
    expect(d.totals.files).toBe(4);
    expect(d.cut).toBe(true);
  });

  test("a 2 MiB diff is read within the page's bound, not whole", async () => {
    const { repo: r, base: b } = makeRepo();
    const rec = agentWorktree(r, b, crypto.randomUUID(), (dir) => {
      for (let i = 0; i < 8; i++) writeFiles(dir, { [`big-${i}.txt`]: `${"x".repeat(200)}\n`.repeat(1400) });
    });
    const d = await ready(rec);
    const shown = d.files.filter((f) => f.cut === null).reduce((n, f) => n + f.hunks.reduce((m, h) => m + h.lines.reduce((k, l) => k + l.text.length + 1, 0), 0), 0);
    expect(shown).toBeLessThanOrEqual(1 << 20);
    expect(d.files.some((f) => f.cut === "total-limit")).toBe(true);
    expect(d.totals.insertions).toBe(8 * 1400);
  });
});

describe("no diff to show, said so", () => {
  test("a run that changed nothing: an empty diff, and the record says so", async () => {
    const { repo, base } = makeRepo();
    const rec = agentWorktree(repo, base, crypto.randomUUID(), () => {});
    expect(rec.changed).toBe(false);
    const d = await ready(rec);
    expect(d.totals).toEqual({ files: 0, insertions: 0, deletions: 0 });
    expect(d.files).toEqual([]);
  });

  test("the branch is gone (discarded): state discarded, and no raw patch", async () => {
    const { repo, base } = makeRepo();
    const rec = agentWorktree(repo, base, crypto.randomUUID(), (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    git(repo, "worktree", "remove", "--force", rec.path);
    git(repo, "branch", "-D", rec.branch);
    expect(await branchDiff(rec)).toEqual({ state: "discarded", record: rec, worktreePresent: false });
    expect(await rawPatch(rec)).toBeNull();
  });

  test("the repository is not on this host, or is no repository any more", async () => {
    const { repo, base } = makeRepo();
    const rec = agentWorktree(repo, base, crypto.randomUUID(), (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const elsewhere = await branchDiff({ ...rec, repository: "/nonexistent/checkout" });
    expect(elsewhere).toMatchObject({ state: "unavailable" });
    expect((elsewhere as { reason: string }).reason).toContain("not on this host");
    rmSync(join(repo, ".git"), { recursive: true, force: true });
    expect(await branchDiff(rec)).toMatchObject({ state: "unavailable", reason: expect.stringContaining("no longer a git repository") });
  });

  test("a base commit the repository does not have", async () => {
    const { repo, base } = makeRepo();
    const rec = agentWorktree(repo, base, crypto.randomUUID(), (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    expect(await branchDiff({ ...rec, baseCommit: "0".repeat(40) })).toMatchObject({ state: "unavailable", reason: expect.stringContaining("base commit") });
    // The raw patch of it ends in an error, not in a quiet, empty or partial download.
    const stream = await rawPatch({ ...rec, baseCommit: "0".repeat(40) });
    await expect(new Response(stream!).text()).rejects.toThrow("the patch is incomplete");
  });
});

describe("the worktree record is data: it is checked before git sees it", () => {
  const good = { rootJobId: "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d", repository: "/r", path: "/w", branch: "claude-jobs/x", baseCommit: "a".repeat(40), headCommit: "b".repeat(40) };
  test.each([
    ["worktree.branch", { branch: "--output=/tmp/pwned" }],
    ["worktree.branch", { branch: "main..evil" }],
    ["worktree.branch", { branch: "a b" }],
    ["worktree.branch", { branch: "x@{1}" }],
    ["worktree.baseCommit", { baseCommit: "HEAD" }],
    ["worktree.baseCommit", { baseCommit: "--all" }],
    ["worktree.headCommit", { headCommit: "main" }],
    ["worktree.repository", { repository: "relative/path" }],
    ["worktree.path", { path: 7 }],
    ["worktree.rootJobId", { rootJobId: "../../x" }],
  ])("%s is refused: %j", (field, bad) => {
    expect(readWorktreeRecord({ worktree: { ...good, ...bad } })).toEqual({ ok: false, field });
  });

  test("a good record reads, missing optional fields as null; no record is null", () => {
    const r = readWorktreeRecord({ worktree: { ...good, headCommit: undefined } });
    expect(r).toMatchObject({ ok: true, record: { branch: "claude-jobs/x", headCommit: null, changed: null } });
    expect(readWorktreeRecord({ sessionId: "s" })).toBeNull();
    expect(readWorktreeRecord(null)).toBeNull();
    expect(readWorktreeRecord({ worktree: "x" })).toEqual({ ok: false, field: "worktree" });
  });
});

describe("a running job's work so far: the worktree folder as it is now", () => {
  test("uncommitted edits and new files are in it, copied files and ignored ones are not; the agent's index and HEAD are untouched", async () => {
    const { repo, base } = makeRepo({ "a.txt": "a\n", ".gitignore": "build/\n" });
    const rec = agentWorktree(repo, base, crypto.randomUUID(), (dir) => writeFiles(dir, { "committed.txt": "c\n" }));
    writeFiles(rec.path, { "a.txt": "a, edited\n", "new/untracked.txt": "new\n", ".env": "SECRET=1\n", "config/x.local.json": "{}\n", "build/out.js": "x\n" });
    git(rec.path, "add", "a.txt"); // the agent staged one file
    const statusBefore = git(rec.path, "status", "--porcelain");
    const headBefore = git(rec.path, "rev-parse", "HEAD");

    const d = await worktreeDiff(rec, [".env", "config/*.local.json"]);
    if (d.state !== "ready") throw new Error(JSON.stringify(d));
    expect(d.snapshotTree).toMatch(/^[0-9a-f]{40}$/);
    expect(d.files.map((f) => [f.status, f.path])).toEqual([["modified", "a.txt"], ["added", "committed.txt"], ["added", "new/untracked.txt"]]);
    expect(git(rec.path, "status", "--porcelain")).toBe(statusBefore);
    expect(git(rec.path, "rev-parse", "HEAD")).toBe(headBefore);
    // The branch itself still has only what was committed.
    expect((await ready(rec)).files.map((f) => f.path)).toEqual(["committed.txt"]);
    // And the raw patch of the live view is the same diff.
    const text = await new Response((await rawPatch(rec, { exclude: [".env", "config/*.local.json"] }))!).text();
    expect(text).toContain("+a, edited");
    expect(text).toContain("b/new/untracked.txt");
    expect(text).not.toContain("SECRET");
  });

  test("a pruned folder gives the branch's diff", async () => {
    const { repo, base } = makeRepo();
    const rec = agentWorktree(repo, base, crypto.randomUUID(), (dir) => writeFiles(dir, { "x.txt": "x\n" }));
    git(repo, "worktree", "remove", "--force", rec.path);
    const d = await worktreeDiff(rec, []);
    expect(d.state === "ready" && [d.snapshotTree, d.files.map((f) => f.path)]).toEqual([null, ["x.txt"]]);
  });
});
