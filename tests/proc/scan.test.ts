// Reading /proc: finding processes by an environment entry (exactly, never a
// zombie), start times that tell a reused pid, the pid namespace id, and
// process groups whose members are all zombies counting as gone.

import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { canScanProcesses, groupAlive, isProcessAlive, pidNamespaceId, processesWithEnv, processStartTime } from "../../src/proc/scan.ts";
import { isAlive, tempDir, waitFor } from "../handlers/claude-helpers.ts";

const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

function start(command: string, args: string[], env: Record<string, string>, detached = false): number {
  const child = spawn(command, args, { stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, detached });
  started.push(child.pid!);
  return child.pid!;
}

test("this is Linux with /proc (the rest assumes it)", () => {
  expect(canScanProcesses()).toBe(true);
});

test("processesWithEnv matches the whole NAME=VALUE entry only", async () => {
  const value = crypto.randomUUID();
  const exact = start("sleep", ["1000"], { A_FIRST: "1", SCAN_MARK: value, Z_LAST: "1" });
  const last = start("sleep", ["1000"], { SCAN_MARK: value }); // the only entry, besides PATH
  const longer = start("sleep", ["1000"], { SCAN_MARK: `${value}x` });
  const prefixed = start("sleep", ["1000"], { XSCAN_MARK: value });
  const inValue = start("sleep", ["1000"], { OTHER: `SCAN_MARK=${value}` });
  await waitFor(() => processesWithEnv("SCAN_MARK", value).length >= 2, 5000, "the processes to exec");
  expect(processesWithEnv("SCAN_MARK", value).sort()).toEqual([exact, last].sort());
  for (const pid of [longer, prefixed, inValue]) expect(processesWithEnv("SCAN_MARK", value)).not.toContain(pid);
  expect(processesWithEnv("SCAN_MARK", crypto.randomUUID())).toEqual([]);
});

test("a zombie is not found, nor alive", async () => {
  const value = crypto.randomUUID();
  // The short sleep's parent execs a long one that never waits for it: it
  // stays a zombie, with the marker it had.
  const parent = start("sh", ["-c", "sleep 0 & exec sleep 1000"], { ZOMBIE_MARK: value });
  let zombie = 0;
  await waitFor(() => {
    zombie = childrenOf(parent)[0] ?? 0;
    return zombie !== 0 && state(zombie) === "Z";
  }, 10_000, "a zombie child");
  expect(processesWithEnv("ZOMBIE_MARK", value)).toEqual([parent]);
  expect(isProcessAlive(zombie, null)).toBe(false);
  expect(isProcessAlive(parent, processStartTime(parent))).toBe(true);
});

test("processStartTime reads field 22 after a comm holding spaces and parens", async () => {
  const dir = tempDir();
  const odd = join(dir, "a) b (c");
  copyFileSync("/bin/sleep", odd);
  spawnSync("chmod", ["+x", odd]);
  const pid = start(odd, ["1000"], {});
  await waitFor(() => readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("a) b"), 5000, "the exec");
  const startTime = processStartTime(pid);
  // Field 22 counted from the end, where no comm can reach (this kernel's stat line has 52 fields).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").trim().split(" ");
  expect(startTime).toBe(fields[fields.length - 52 + 21]!);
  expect(startTime).toMatch(/^\d+$/);
  expect(isProcessAlive(pid, startTime)).toBe(true);
  expect(isProcessAlive(pid, String(Number(startTime) + 1))).toBe(false); // a reused pid: another start time
  process.kill(pid, "SIGKILL");
  await waitFor(() => !isProcessAlive(pid, startTime), 5000, "its death");
  expect(processStartTime(999_999_999)).toBeNull();
  expect(isProcessAlive(999_999_999, null)).toBe(false);
});

test("pidNamespaceId: this boot and this pid namespace, the same for every process in it", () => {
  const id = pidNamespaceId();
  const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  expect(id).toBe(`${bootId}:${statSync("/proc/self/ns/pid").ino}`);
  const child = spawnSync(process.execPath, ["-e", `import("${join(import.meta.dir, "../../src/proc/scan.ts")}").then(m => process.stdout.write(m.pidNamespaceId()))`]);
  expect(child.stdout.toString()).toBe(id);
});

test("groupAlive: a group whose members are all zombies is gone", async () => {
  // A group leader that is never reaped (its parent, a shell exec'd into
  // sleep, never waits), with a member that goes on.
  const parent = start("sh", ["-c", `setsid sh -c 'sleep 1000 & exit 0' & exec sleep 1000`], {});
  let leader = 0;
  await waitFor(() => {
    leader = childrenOf(parent)[0] ?? 0;
    return leader !== 0 && state(leader) === "Z";
  }, 10_000, "the group's leader to exit");
  const member = childrenOfAny().find(([, pgrp]) => pgrp === leader)?.[0];
  expect(member).toBeDefined();
  started.push(member!);
  expect(groupAlive(leader)).toBe(true); // the member lives
  process.kill(member!, "SIGKILL");
  await waitFor(() => !groupAlive(leader), 5000, "the group to be gone");
  expect(() => process.kill(-leader, 0)).not.toThrow(); // the kernel still counts the zombie leader
});

function statOf(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function state(pid: number): string | undefined {
  try {
    return statOf(pid)[0];
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
}

/** [pid, pgrp] of every process that is alive. */
function childrenOfAny(): [number, number][] {
  const out: [number, number][] = [];
  for (const entry of new Bun.Glob("[0-9]*").scanSync({ cwd: "/proc", onlyFiles: false })) {
    try {
      const fields = statOf(Number(entry));
      if (fields[0] !== "Z") out.push([Number(entry), Number(fields[2])]);
    } catch {
      // gone
    }
  }
  return out;
}
