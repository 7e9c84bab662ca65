// The dashboard's side of worktree jobs through app.handle, on real
// repositories: the job page's Changes (stat, per-file <details>, escaped:
// nothing a browser would run), the chain, the raw patch route (text/plain,
// nosniff, a Content-Disposition, the token required), the API's diff,
// follow-up and discard, and the forms and htmx answers of the actions, with
// 4xx naming the field and nothing changed on refusal.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { activeContent, webFixture, type WebFixture } from "../web/helpers.ts";
import { finishedWorktreeJob, git, insertClaudeJob, makeRepo, writeFiles } from "./helpers.ts";

const HOSTILE = "<img src=x onerror=alert(1)>.txt";
const CONTENT = `<script>alert(2)</script>\n"><svg onload=alert(3)>\n`;

let f: WebFixture;
let repo = "";
let base = "";
beforeAll(async () => {
  f = await webFixture();
  ({ repo, base } = makeRepo({ "main.ts": "export const x = 1;\n" }));
});
afterAll(() => f.db.drop());

const htmx = { "hx-request": "true", accept: "*/*" };
const page = async (path: string) => {
  const r = await f.request("GET", path, { headers: { accept: "text/html" } });
  return { status: r.status, html: await r.text() };
};
const count = async () => ((await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number);

describe("the job page of a worktree job", () => {
  test("shows the stat and each file, escaped, in <details>; nothing a browser would run; the merge commands and the raw patch link", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "main.ts": "export const x = 2;\n", [HOSTILE]: CONTENT }));
    const { status, html } = await page(`/jobs/${id}`);
    expect(status).toBe(200);
    expect(html).toContain('id="job-changes"');
    expect(html).toContain('data-changes-state="ready"');
    expect(html).toContain("2 files changed");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;.txt");
    expect(html).toContain("+&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<svg onload");
    expect(await activeContent(html)).toEqual([]);
    expect(html.match(/<details class="diff-file"/g)?.length).toBe(2);
    expect(html).toContain(`href="/jobs/${id}/patch"`);
    expect(html).toContain(`git -C ${record.repository} merge ${record.branch}`);
    expect(html).toContain(`git -C ${record.repository} push origin ${record.branch}`);
    expect(html).toContain('data-action="discard"');
    expect(html).toContain('id="job-chain"');
    expect(html).toContain(`action="/jobs/${id}/follow-up"`);
  });

  test("a worktree job still running with nothing recorded says when its changes show; a plain job has no Changes at all", async () => {
    const running = await insertClaudeJob(f.db, { status: "running", payload: { prompt: "p", cwd: repo, worktree: true, base_commit: base } });
    const { html } = await page(`/jobs/${running}`);
    expect(html).toContain('data-changes-state="waiting"');
    expect(html).toContain("once the run has made its worktree");
    expect(html).toContain(`action="/jobs/${running}/follow-up"`);
    expect(html).toContain("once this job has finished");
    const plain = await insertClaudeJob(f.db, { payload: { prompt: "p", cwd: "/tmp" } });
    expect((await page(`/jobs/${plain}`)).html).not.toContain('id="job-changes"');
  });

  test("a running job with its worktree recorded shows its work so far, uncommitted included, with a Refresh that re-renders the section", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, () => {}, { status: "running" });
    writeFiles(record.path, { "in-progress.txt": "halfway <b>there</b>\n" });
    const { html } = await page(`/jobs/${id}`);
    expect(html).toContain("data-live-changes");
    expect(html).toContain("in-progress.txt");
    expect(html).toContain("+halfway &lt;b&gt;there&lt;/b&gt;");
    expect(html).toContain(`hx-get="/partials/jobs/${id}/changes"`);
    writeFiles(record.path, { "later.txt": "more\n" });
    const partial = await f.request("GET", `/partials/jobs/${id}/changes`, { headers: htmx });
    expect(partial.status).toBe(200);
    const fragment = await partial.text();
    expect(fragment).toStartWith('<section class="card changes" id="job-changes"');
    expect(fragment).toContain("later.txt");
    expect(await (await f.request("GET", `/jobs/${id}/patch`)).text()).toContain("+halfway <b>there</b>");
    // Nothing was committed on the agent's behalf.
    expect(git(record.path, "status", "--porcelain")).toContain("?? in-progress.txt");
  });

  test("a discarded branch says so, with no diff", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    git(repo, "worktree", "remove", "--force", record.path);
    git(repo, "branch", "-D", record.branch);
    const { html } = await page(`/jobs/${id}`);
    expect(html).toContain('data-changes-state="discarded"');
    expect(html).toContain("this work was discarded");
    expect(html).not.toContain('class="diff-file"');
  });
});

describe("the raw patch", () => {
  test("text/plain, nosniff, a Content-Disposition, sandboxed; exactly git's patch with binary files", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { [HOSTILE]: CONTENT, "bin.dat": new Uint8Array([0, 1, 2, 3]) }));
    const r = await f.request("GET", `/jobs/${id}/patch`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-disposition")).toBe(`inline; filename="claude-jobs-${id}.patch"`);
    expect(r.headers.get("content-security-policy")).toContain("sandbox");
    const body = await r.text();
    expect(body).toBe(git(repo, "diff", "-p", "--binary", "-M", base, record.branch));
    expect(body).toContain("GIT binary patch");
  });

  test("needs the token like every job route; a job with no branch is 404", async () => {
    const { id } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const anonymous = await f.request("GET", `/jobs/${id}/patch`, { auth: false, headers: { accept: "text/html" } });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toStartWith("/login?next=");
    const plain = await insertClaudeJob(f.db, { payload: { prompt: "p", cwd: "/tmp" } });
    expect((await f.request("GET", `/jobs/${plain}/patch`)).status).toBe(404);
    expect((await f.request("GET", "/jobs/not-a-job/patch")).status).toBe(404);
  });
});

describe("the API", () => {
  test("GET /api/jobs/:id/diff: the diff as JSON with the patch's URL; a plain job is state none", async () => {
    const { id } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { [HOSTILE]: CONTENT }));
    const d = await (await f.request("GET", `/api/jobs/${id}/diff`)).json() as Record<string, any>;
    expect(d.state).toBe("ready");
    expect(d.patchUrl).toBe(`/jobs/${id}/patch`);
    expect(d.files[0].path).toBe(HOSTILE);
    expect(d.files[0].hunks[0].lines[0].text).toBe("<script>alert(2)</script>");
    const plain = await insertClaudeJob(f.db, { payload: { prompt: "p", cwd: "/tmp" } });
    expect(await (await f.request("GET", `/api/jobs/${plain}/diff`)).json()).toMatchObject({ state: "none" });
    expect((await f.request("GET", "/api/jobs/0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d/diff")).status).toBe(404);
  });

  test("POST /api/jobs/:id/follow-up: 201 with the new job; 422 naming the field for a bad body; nothing enqueued then", async () => {
    const { id } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const r = await f.request("POST", `/api/jobs/${id}/follow-up`, { json: { prompt: "more" } });
    expect(r.status).toBe(201);
    const job = await r.json() as Record<string, any>;
    expect(r.headers.get("location")).toBe(`/api/jobs/${job.id}`);
    expect(job.payload).toMatchObject({ prompt: "more", worktree_of: id, worktree: true });
    const before = await count();
    for (const [body, field] of [[{}, "prompt"], [{ prompt: "" }, "prompt"], [{ prompt: "x", cwd: "/" }, "cwd"], [{ prompt: 5 }, "prompt"]] as const) {
      const bad = await f.request("POST", `/api/jobs/${id}/follow-up`, { json: body });
      expect(bad.status).toBe(422);
      expect((await bad.json() as { field: string }).field).toBe(field);
    }
    const plain = await insertClaudeJob(f.db, { payload: { prompt: "p", cwd: "/tmp" }, result: { sessionId: crypto.randomUUID() } });
    const refused = await f.request("POST", `/api/jobs/${plain}/follow-up`, { json: { prompt: "x" } });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ field: "id" });
    expect(await count()).toBe(before + 1);
  });

  test("POST /api/jobs/:id/discard: what was removed; 409 for a running job; 403 from another site", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const crossSite = await f.request("POST", `/api/jobs/${id}/discard`, { headers: { authorization: `Bearer ${f.token}`, origin: "https://evil.example" } });
    expect(crossSite.status).toBe(403);
    expect(existsSync(record.path)).toBe(true);
    const r = await f.request("POST", `/api/jobs/${id}/discard`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ jobId: id, rootJobId: id, repository: repo, path: record.path, branch: record.branch, removedPath: true, deletedBranch: true });
    const running = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "b.txt": "b\n" }), { status: "running" });
    const conflict = await f.request("POST", `/api/jobs/${running.id}/discard`);
    expect(conflict.status).toBe(409);
    expect((await conflict.json() as { message: string }).message).toContain("is running");
    expect(existsSync(running.record.path)).toBe(true);
  });
});

describe("the page's actions", () => {
  test("Follow-up: a form redirects to the new job; htmx gets the chain section naming it; an empty prompt is a 422 naming prompt", async () => {
    const { id } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const form = await f.request("POST", `/jobs/${id}/follow-up`, { form: { prompt: "from the form" } });
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toMatch(/^\/jobs\/[0-9a-f-]{36}\?done=follow-up$/);
    const viaHtmx = await f.request("POST", `/jobs/${id}/follow-up`, { form: { prompt: "from htmx <b>bold</b>" }, headers: htmx });
    expect(viaHtmx.status).toBe(200);
    const fragment = await viaHtmx.text();
    expect(fragment).toStartWith('<section class="card chain" id="job-chain"');
    const [newest] = await f.db.sql`SELECT id FROM claude_jobs WHERE payload->>'prompt' = 'from htmx <b>bold</b>'`;
    expect(fragment).toContain(`data-follow-up-enqueued="${newest!.id}"`);
    expect(fragment).toContain("from htmx &lt;b&gt;bold&lt;/b&gt;");
    // The Changes section comes along (out of band): Discard now waits for the follow-up.
    expect(fragment).toContain('id="job-changes" data-changes-state="ready" hx-swap-oob="true"');
    expect(fragment).toMatch(/data-action="discard" disabled/);
    const before = await count();
    const empty = await f.request("POST", `/jobs/${id}/follow-up`, { form: { prompt: " " }, headers: htmx });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("prompt: must be a non-empty string");
    const emptyPage = await f.request("POST", `/jobs/${id}/follow-up`, { form: {}, headers: { accept: "text/html" } });
    expect(emptyPage.status).toBe(422);
    expect(await count()).toBe(before);
  });

  test("Discard: htmx gets the Changes section saying what was removed; a form redirects; a running job is a 409", async () => {
    const { id, record } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const r = await f.request("POST", `/jobs/${id}/discard`, { headers: htmx });
    expect(r.status).toBe(200);
    const fragment = await r.text();
    expect(fragment).toStartWith('<section class="card changes" id="job-changes" data-changes-state="discarded"');
    expect(fragment).toContain("data-discarded");
    expect(fragment).toContain(`Discarded: removed the worktree folder ${record.path} and the branch ${record.branch}.`);
    expect(fragment).toContain('id="job-chain" hx-swap-oob="true"');
    expect(fragment).toContain("The branch was discarded: there is nothing to follow up on.");
    expect(fragment).not.toContain(`action="/jobs/${id}/follow-up"`);
    const again = await f.request("POST", `/jobs/${id}/discard`);
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe(`/jobs/${id}?done=discarded`);
    expect((await page(`/jobs/${id}?done=discarded`)).html).toContain("Worktree and branch discarded.");
    const running = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "b.txt": "b\n" }), { status: "running" });
    expect((await f.request("POST", `/jobs/${running.id}/discard`, { headers: htmx })).status).toBe(409);
    const { html } = await page(`/jobs/${running.id}`);
    expect(html).toMatch(/data-action="discard" disabled/);
  });

  test("the chain: root, parent and follow-ups link to each other", async () => {
    const { id: root } = await finishedWorktreeJob(f.db, repo, base, (dir) => writeFiles(dir, { "a.txt": "a\n" }));
    const child = await insertClaudeJob(f.db, { status: "waiting", payload: { prompt: "child <i>x</i>", cwd: repo, worktree: true, worktree_of: root, follow_up_of: root } });
    const rootPage = (await page(`/jobs/${root}`)).html;
    expect(rootPage).toContain(`data-chain-job="${child}"`);
    expect(rootPage).toContain(`href="/jobs/${child}"`);
    expect(rootPage).toContain("child &lt;i&gt;x&lt;/i&gt;");
    expect(rootPage).toMatch(/data-action="discard" disabled/);
    const childPage = (await page(`/jobs/${child}`)).html;
    expect(childPage).toContain(`href="/jobs/${root}"`);
    expect(childPage).toMatch(/<dt>Parent<\/dt><dd><a class="mono" href="\/jobs\/[0-9a-f-]+"/);
  });
});
