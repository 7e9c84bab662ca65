// The Claude logs hold agent output, and agent output holds secrets: the
// folder is 0700 and the files 0600, whatever the umask, when the folder is
// new and when it already exists. An existing looser folder holding only
// claude-jobs logs is tightened (with its files); one holding anything else
// is refused with a message saying what to do, not chmodded.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import { attemptLogPaths, listLogFiles, preflightLogDir } from "../../src/handlers/claude/logs.ts";
import { makeHandler, makeJob, runJob, tempDir } from "./claude-helpers.ts";

const mode = (path: string) => statSync(path).mode & 0o777;
const id = "0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d";
const cwd = tempDir();

// The usual umask (022) would make files 0644 and folders 0755.
let umask: number;
beforeAll(() => { umask = process.umask(0o022); });
afterAll(() => { process.umask(umask); });

describe("log permissions", () => {
  test("a run's log folder is made 0700 and its files 0600", async () => {
    const logDir = join(tempDir(), "new", "logs");
    const { handler } = makeHandler({ logDir });
    const job = makeJob({ prompt: "print sk-ant-api03-secret", cwd });
    const { value, error } = await runJob(handler, job);
    expect(error).toBeUndefined();
    expect(value?.exitCode).toBe(0);
    expect(mode(logDir)).toBe(0o700);
    expect(mode(join(logDir, ".."))).toBe(0o700); // parents it made, too
    const files = await listLogFiles(logDir, job.id);
    expect(files.length).toBe(2);
    for (const f of files) expect(mode(f.path)).toBe(0o600);
  });

  test("an existing 0755 folder holding only claude-jobs logs is tightened to 0700, its old 0644 logs to 0600", async () => {
    const logDir = tempDir();
    chmodSync(logDir, 0o755);
    const old = join(logDir, `${id}-20240101-000000.stdout.log`);
    writeFileSync(old, "secret output\n", { mode: 0o644 });
    const { handler } = makeHandler({ logDir });
    await handler.preflight!();
    expect(mode(logDir)).toBe(0o700);
    expect(mode(old)).toBe(0o600);
    chmodSync(logDir, 0o755); // loosened again while the worker runs: the next attempt tightens it
    const paths = await attemptLogPaths(logDir, id, new Date());
    expect(mode(logDir)).toBe(0o700);
    expect(mode(paths.stdoutPath)).toBe(0o600);
    expect(mode(paths.stderrPath)).toBe(0o600);
  });

  test("a loose folder that holds other files is refused, not changed, with what to do", async () => {
    const logDir = tempDir();
    chmodSync(logDir, 0o755);
    mkdirSync(join(logDir, "photos"));
    writeFileSync(join(logDir, "notes.txt"), "");
    const err = await preflightLogDir(logDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`the Claude log folder ${logDir} can be read by other users (mode 0755)`);
    expect((err as Error).message).toContain(`chmod 700 ${logDir}`);
    expect((err as Error).message).toContain("--log-dir");
    expect(mode(logDir)).toBe(0o755);
    await expect(attemptLogPaths(logDir, id, new Date())).rejects.toBeInstanceOf(ConfigError);
  });

  test("a private folder is left as it is, whatever else it holds", async () => {
    const logDir = tempDir();
    chmodSync(logDir, 0o700);
    writeFileSync(join(logDir, "README"), "");
    await preflightLogDir(logDir);
    const paths = await attemptLogPaths(logDir, id, new Date());
    expect(mode(logDir)).toBe(0o700);
    expect(mode(paths.stdoutPath)).toBe(0o600);
  });
});
