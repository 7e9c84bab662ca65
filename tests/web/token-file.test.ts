// The dashboard's generated token: made at first start into a file only its
// owner can read ($XDG_CONFIG_HOME/claude-jobs/token, 0600 in a 0700
// folder), the same token at every later start, one winner when several
// processes start at once, and a file others could read, or a weak token in
// it, refused with what to do.

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateToken, tokenFilePath } from "../../src/web/token-file.ts";
import { ConfigError } from "../../src/errors.ts";
import { REPO } from "../helpers/engine.ts";

const home = () => realpathSync(mkdtempSync(join(tmpdir(), "cj-token-home-")));
const mode = (path: string) => statSync(path).mode & 0o777;

describe("the token file", () => {
  test("is made at first start: 0600 in a 0700 folder under XDG_CONFIG_HOME, 43 random characters, the same afterwards", () => {
    const h = home();
    const env = { HOME: h, XDG_CONFIG_HOME: join(h, "cfg") };
    const old = process.umask(0o022);
    try {
      const first = loadOrCreateToken(env);
      expect(first.path).toBe(join(h, "cfg", "claude-jobs", "token"));
      expect(first.created).toBe(true);
      expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(mode(first.path)).toBe(0o600);
      expect(mode(join(h, "cfg", "claude-jobs"))).toBe(0o700);
      expect(readFileSync(first.path, "utf8").trim()).toBe(first.token);
      const again = loadOrCreateToken(env);
      expect(again).toEqual({ token: first.token, path: first.path, created: false });
      expect(loadOrCreateToken({ HOME: home() }).token).not.toBe(first.token);
    } finally {
      process.umask(old);
    }
  });

  test("lives in ~/.config/claude-jobs by default, next to CLAUDE_JOBS_CONFIG when that is set, or at CLAUDE_JOBS_TOKEN_FILE", () => {
    expect(tokenFilePath({ HOME: "/home/ann" })).toBe("/home/ann/.config/claude-jobs/token");
    expect(tokenFilePath({ HOME: "/home/ann", CLAUDE_JOBS_CONFIG: "/etc/cj/config.json" })).toBe("/etc/cj/token");
    expect(tokenFilePath({ HOME: "/home/ann", CLAUDE_JOBS_TOKEN_FILE: "/run/secrets/cj" })).toBe("/run/secrets/cj");
  });

  test("processes starting at once agree on one token", async () => {
    const h = home();
    const script = `import { loadOrCreateToken } from ${JSON.stringify(join(REPO, "src/web/token-file.ts"))};
      process.stdout.write(loadOrCreateToken({ HOME: ${JSON.stringify(h)} }).token);`;
    const procs = Array.from({ length: 6 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" }));
    const tokens = await Promise.all(procs.map(async (p) => { await p.exited; return new Response(p.stdout).text(); }));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("a file others may read is refused, saying what to do, and left as it is", () => {
    const h = home();
    const { path, token } = loadOrCreateToken({ HOME: h });
    chmodSync(path, 0o644);
    expect(() => loadOrCreateToken({ HOME: h })).toThrow(ConfigError);
    expect(() => loadOrCreateToken({ HOME: h })).toThrow(/can be read by other users \(mode 0644\).*Remove it/);
    expect(readFileSync(path, "utf8").trim()).toBe(token);
  });

  test("a weak token in the file (short, or with whitespace inside) is refused", () => {
    for (const text of ["short\n", `${"a".repeat(20)} ${"b".repeat(20)}\n`]) {
      const h = home();
      const path = join(h, ".config", "claude-jobs", "token");
      mkdirSync(join(h, ".config", "claude-jobs"), { recursive: true, mode: 0o700 });
      writeFileSync(path, text, { mode: 0o600 });
      expect(() => loadOrCreateToken({ HOME: h })).toThrow(/token file .*: the token must/);
    }
  });

  test("a folder in the way is a clear ConfigError", () => {
    const h = home();
    mkdirSync(join(h, ".config", "claude-jobs", "token"), { recursive: true });
    expect(() => loadOrCreateToken({ HOME: h })).toThrow(/not a regular file/);
  });
});
