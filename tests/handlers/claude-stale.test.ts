// Invariant 3, second half: an attempt of job J never starts while a process
// of an earlier attempt of J is alive on this host (say a dead worker's CLI
// that its guard is still stopping). Such processes carry CLAUDE_JOBS_JOB=J;
// the handler stops them first (SIGTERM, SIGKILL after the grace), says so in
// the attempt's stderr log, and only then starts the CLI. And what a CLI
// started outside its process group (setsid) is stopped when the run ends.

import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { JOB_ENV } from "../../src/proc/guard.ts";
import { processesWithEnv } from "../../src/proc/scan.ts";
import { fakeEnv, isAlive, makeHandler, makeJob, runJob, tempDir, waitFor } from "./claude-helpers.ts";

const cwd = tempDir();
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

/** A leftover of an earlier attempt of `jobId`: ignores SIGTERM and touches `heartbeat` every 20 ms while it lives. */
function startLeftover(jobId: string, heartbeat: string): number {
  const child = spawn("sh", ["-c", `trap '' TERM; while :; do : > '${heartbeat}'; sleep 0.02; done`], {
    detached: true, stdio: "ignore", env: { PATH: process.env.PATH, [JOB_ENV]: jobId },
  });
  started.push(child.pid!);
  return child.pid!;
}

const mtimeNs = (path: string) => statSync(path, { bigint: true }).mtimeNs;

test("a live process of an earlier attempt is stopped before the new attempt starts, which then runs", async () => {
  const job = makeJob({ prompt: "after the leftovers", cwd }, { attempts: 2 });
  const heartbeat = join(tempDir(), "heartbeat");
  const leftover = startLeftover(job.id, heartbeat);
  const plain = spawn("sleep", ["1000"], { detached: true, stdio: "ignore", env: { [JOB_ENV]: job.id } });
  started.push(plain.pid!);
  await waitFor(() => existsSync(heartbeat) && processesWithEnv(JOB_ENV, job.id).length >= 2, 5000, "the leftovers");

  const argvFile = join(tempDir(), "argv.json");
  const graceMs = 500;
  const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile }), killGraceMs: graceMs });
  const t0 = Date.now();
  const { value, error } = await runJob(handler, job);
  const ms = Date.now() - t0;

  expect(error).toBeUndefined();
  expect(value?.result).toBe("echo: after the leftovers");
  expect(isAlive(leftover)).toBe(false);
  expect(isAlive(plain.pid!)).toBe(false);
  // The CLI started after the leftover's last sign of life, not alongside it.
  expect(mtimeNs(argvFile)).toBeGreaterThan(mtimeNs(heartbeat));
  expect(ms).toBeGreaterThanOrEqual(graceMs); // the shell ignored SIGTERM: SIGKILL after the grace
  const log = readFileSync(value!.stderrLog as string, "utf8");
  expect(log).toMatch(new RegExp(`\\[claude-jobs\\] before this attempt started: \\d process\\(es\\) of job ${job.id} from an earlier attempt, alive on this host: `));
  expect(log).toContain(`${leftover} (sh)`);
  expect(log).toMatch(/they are gone after \d+ ms \(SIGKILL needed\)/);
  console.log(`leftovers stopped and the new attempt run in ${ms} ms (grace ${graceMs} ms)`);
});

test("processes of other jobs are left alone, and a run with no leftovers writes no note", async () => {
  const other = makeJob({ prompt: "x", cwd });
  const heartbeat = join(tempDir(), "heartbeat");
  const bystander = startLeftover(other.id, heartbeat);
  const { handler } = makeHandler();
  const { value, error } = await runJob(handler, makeJob({ prompt: "mine", cwd }));
  expect(error).toBeUndefined();
  expect(isAlive(bystander)).toBe(true);
  expect(readFileSync(value!.stderrLog as string, "utf8")).not.toContain("[claude-jobs]");
  process.kill(bystander, "SIGKILL");
});

test("a child the CLI started in a session of its own (setsid) is stopped when the run ends", async () => {
  const dir = tempDir();
  const pidFile = join(dir, "child.pid");
  const setsidPidFile = join(dir, "setsid.pid");
  const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_PIDFILE: pidFile, FAKE_CLAUDE_SETSID_PIDFILE: setsidPidFile }) });
  const job = makeJob({ prompt: "fake:leave-child", cwd });
  const { value, error } = await runJob(handler, job);
  expect(error).toBeUndefined();
  const escapee = Number(readFileSync(setsidPidFile, "utf8"));
  started.push(escapee);
  expect(isAlive(Number(readFileSync(pidFile, "utf8")))).toBe(false);
  expect(isAlive(escapee)).toBe(false);
  expect(readFileSync(value!.stderrLog as string, "utf8")).toContain(`[claude-jobs] after the run ended: 1 process(es) of job ${job.id} outside its process group: ${escapee} (sleep)`);
});

test("a cancel stops the child that left the group too", async () => {
  const dir = tempDir();
  const pidFile = join(dir, "child.pid");
  const setsidPidFile = join(dir, "setsid.pid");
  const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_PIDFILE: pidFile, FAKE_CLAUDE_SETSID_PIDFILE: setsidPidFile }) });
  const job = makeJob({ prompt: "fake:spawn-child", cwd });
  const controller = new AbortController();
  const running = runJob(handler, job, controller.signal);
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "", 10_000, "the fake's children");
  const escapee = Number(readFileSync(setsidPidFile, "utf8"));
  started.push(escapee);
  controller.abort({ kind: "cancelled", message: "cancelled" });
  const { error } = await running;
  expect(error?.message).toBe("cancelled");
  expect(isAlive(escapee)).toBe(false);
  expect(isAlive(Number(readFileSync(pidFile, "utf8")))).toBe(false);
  // The note is about the escapee only: the CLI's own group is not a leftover.
  expect(readFileSync(error!.result!.stderrLog as string, "utf8")).toContain(
    `[claude-jobs] when the run was stopped: 1 process(es) of job ${job.id} outside its process group: ${escapee} (sleep)`);
});

test("a cancel while the leftovers are being stopped starts nothing", async () => {
  const job = makeJob({ prompt: "never", cwd });
  const heartbeat = join(tempDir(), "heartbeat");
  const leftover = startLeftover(job.id, heartbeat);
  await waitFor(() => existsSync(heartbeat), 5000, "the leftover");
  const argvFile = join(tempDir(), "argv.json");
  const { handler } = makeHandler({ env: fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile }), killGraceMs: 500 });
  const controller = new AbortController();
  setTimeout(() => controller.abort({ kind: "cancelled", message: "cancelled meanwhile" }), 100);
  const { error } = await runJob(handler, job, controller.signal);
  expect(error?.message).toBe("cancelled meanwhile");
  expect(isAlive(leftover)).toBe(false); // stopped all the same
  expect(existsSync(argvFile)).toBe(false);
});
