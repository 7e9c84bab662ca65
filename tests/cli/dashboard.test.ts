// `dashboard` and `serve` as a user starts them: every page needs the token,
// so the quick start (`serve`, nothing configured) generates one into a 0600
// token file and prints a login URL that signs a browser in; the next start
// reads the same file. A token of one's own comes from CLAUDE_JOBS_TOKEN (or
// --token, with a warning: the command line is readable by every local
// user), must be strong, and is never printed. Beyond loopback only a token
// given on purpose will do. --trust-proxy and --secure-cookies reach the app.

import { afterAll, afterEach, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { cliEnv, runCli, spawnCli } from "../helpers/cli.ts";
import type { Child } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

const TOKEN = "my-own-token-0123456789abcdefghijklmnopqrstuvwxyz";
let db: TestDatabase;
const running: Child[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const c of running.splice(0)) {
    if (c.proc.exitCode === null) c.proc.kill("SIGTERM");
    await c.exited;
  }
});
afterAll(() => db.drop());

/** Starts a command and waits for its sign-in line; returns the base URL and that line. */
async function start(args: string[], env: Record<string, string>) {
  const child = spawnCli([...args, `--database-url=${db.url}`, "--port=0"], env);
  running.push(child);
  const [, base, signIn] = await Promise.race([
    waitFor("the sign-in line", () => /listening on (http:\/\/\S+)\n(?:.*\n)*?((?:open|sign in at) \S+.*)\n/.exec(child.stderr()) ?? undefined, { timeoutMs: 20_000 }),
    child.exited.then((code) => { throw new Error(`exited ${code}: ${child.stderr()}`); }),
  ]);
  return { child, base: base!, signIn: signIn! };
}

/** GET with a cookie jar of one cookie, following nothing. */
async function get(url: string, o: { cookie?: string; headers?: Record<string, string> } = {}) {
  return fetch(url, { redirect: "manual", headers: { ...(o.cookie ? { cookie: o.cookie } : {}), ...o.headers } });
}

const sessionOf = (r: Response) => /cj_session=([^;]+)/.exec(r.headers.get("set-cookie") ?? "")?.[1];

describe("the quick start: `serve` with nothing configured", () => {
  test("prints a login URL that signs a browser in: a session cookie, then the overview page", async () => {
    const env = cliEnv();
    const { child, base, signIn } = await start(["serve", "--concurrency=1"], env);
    const login = /^open (\S+) to sign in/.exec(signIn)?.[1];
    expect(login).toStartWith(`${base}/login?token=`);
    expect(child.stderr().split("\n").filter((l) => l.includes("/login?token=")).length).toBe(1); // once

    expect((await get(`${base}/`)).status).not.toBe(200); // closed without it

    const r = await get(login!);
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/");
    const session = sessionOf(r);
    expect(session).toBeDefined();
    const page = await get(`${base}/`, { cookie: `cj_session=${session}` });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("queued");

    // The token is in a file only its owner may read, in a folder only its owner may open.
    const file = join(env.XDG_CONFIG_HOME!, "claude-jobs", "token");
    expect(signIn).toContain(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    const token = readFileSync(file, "utf8").trim();
    expect(login).toBe(`${base}/login?token=${encodeURIComponent(token)}`);
    expect((await get(`${base}/api/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  test("a later start reads the same token file", async () => {
    const env = cliEnv();
    const first = await start(["dashboard"], env);
    const token = new URL(/open (\S+)/.exec(first.signIn)![1]!).searchParams.get("token");
    expect(first.signIn).toContain("made now");
    first.child.proc.kill("SIGTERM");
    expect(await first.child.exited).toBe(0);
    const second = await start(["dashboard"], env);
    expect(new URL(/open (\S+)/.exec(second.signIn)![1]!).searchParams.get("token")).toBe(token);
    expect(second.signIn).not.toContain("made now");
  });
});

describe("a token of one's own", () => {
  test("from CLAUDE_JOBS_TOKEN: required by every call, never printed, no warning; the /login address is", async () => {
    const { child, base, signIn } = await start(["dashboard"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    expect(signIn).toBe(`sign in at ${base}/login with your token (CLAUDE_JOBS_TOKEN / --token)`);
    expect(child.stderr()).not.toContain(TOKEN);
    expect(child.stderr()).not.toContain("warning");
    expect((await get(`${base}/api/stats`)).status).toBe(401);
    expect((await get(`${base}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const r = await get(`${base}/login?token=${TOKEN}`);
    expect(sessionOf(r)).toBeDefined();
  });

  test("--token on the command line works, with a warning that other local users can read it", async () => {
    const { child, base } = await start(["dashboard", `--token=${TOKEN}`], cliEnv());
    expect(child.stderr()).toContain("warning: --token on the command line can be read by every local user (/proc/PID/cmdline");
    expect(child.stderr()).not.toContain(TOKEN);
    expect((await get(`${base}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test("--help says so, and prefers the environment or the token file", async () => {
    for (const command of ["dashboard", "serve"]) {
      const { code, stdout } = await runCli([command, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain("/proc/PID/cmdline");
      expect(stdout).toContain("prefer CLAUDE_JOBS_TOKEN or the token file");
      expect(stdout).toContain("--trust-proxy");
      expect(stdout).toContain("--secure-cookies");
    }
  });

  test("a weak token is refused, exit 2, naming where it came from", async () => {
    for (const [args, env, field] of [
      [["dashboard", "--token=short"], {}, "--token"],
      [["serve"], { CLAUDE_JOBS_TOKEN: "x".repeat(20) }, "CLAUDE_JOBS_TOKEN"],
      [["dashboard"], { CLAUDE_JOBS_TOKEN: `${TOKEN} with spaces` }, "CLAUDE_JOBS_TOKEN"],
    ] as const) {
      const r = await runCli([...args, `--database-url=${db.url}`, "--port=0"], { env: cliEnv(env) });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(`${field}: must`);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("beyond loopback, and behind a proxy", () => {
  test("0.0.0.0 needs a token given on purpose: the token file's will not do", async () => {
    const env = cliEnv();
    const first = await start(["dashboard"], env); // makes the token file
    first.child.proc.kill("SIGTERM");
    await first.child.exited;
    const r = await runCli(["dashboard", "--host=0.0.0.0", `--database-url=${db.url}`, "--port=0"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to listen on 0.0.0.0 without a token");
  });

  test("on 127.0.0.1 only loopback Host names are answered; on 0.0.0.0 with a token, any", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const local = await start(["dashboard"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    expect((await get(`${local.base}/api/stats`, { headers: { ...auth, host: "evil.example" } })).status).toBe(421);
    const open = await start(["dashboard", "--host=0.0.0.0"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    const port = new URL(open.base).port;
    expect((await get(`http://127.0.0.1:${port}/api/stats`, { headers: { ...auth, host: "jobs.example" } })).status).toBe(200);
  });

  test("--trust-proxy: X-Forwarded-Proto https from the proxy makes the cookie Secure; --secure-cookies always", async () => {
    const proxied = await start(["dashboard", "--trust-proxy=127.0.0.1,::1"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    const viaTls = await get(`${proxied.base}/login?token=${TOKEN}`, { headers: { "x-forwarded-proto": "https" } });
    expect(viaTls.headers.get("set-cookie")).toContain("; Secure");
    const plain = await get(`${proxied.base}/login?token=${TOKEN}`);
    expect(plain.headers.get("set-cookie")).not.toContain("Secure");

    const untrusted = await start(["dashboard"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    const ignored = await get(`${untrusted.base}/login?token=${TOKEN}`, { headers: { "x-forwarded-proto": "https" } });
    expect(ignored.headers.get("set-cookie")).not.toContain("Secure");

    const always = await start(["dashboard", "--secure-cookies"], cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN }));
    expect((await get(`${always.base}/login?token=${TOKEN}`)).headers.get("set-cookie")).toContain("; Secure");
  });

  test("--trust-proxy takes IP addresses only (CLAUDE_JOBS_TRUST_PROXY too), exit 2", async () => {
    for (const [args, env] of [
      [["dashboard", "--trust-proxy=proxy.internal"], {}],
      [["serve", "--trust-proxy=10.0.0.0/8"], {}],
      [["dashboard"], { CLAUDE_JOBS_TRUST_PROXY: "127.0.0.1,nginx" }],
    ] as const) {
      const r = await runCli([...args, `--database-url=${db.url}`, "--port=0"], { env: cliEnv({ CLAUDE_JOBS_TOKEN: TOKEN, ...env }) });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain("--trust-proxy: must be IP addresses");
    }
  });
});
