// Invariant 3: a job's processes die with their worker, whatever killed it.
// A worker stand-in (tests/fixtures/handler-worker.ts) runs the Claude handler
// with the fake CLI; the test SIGKILLs it and watches the CLI, its child and a
// child that left the group (setsid) go. Also: a clean exit leaves no guard,
// the guard's pipe is held by nobody else, a guard killed while its parent
// lives is replaced and told the live groups again.

import { afterAll, describe, expect, test } from "bun:test";
import { spawn as spawnChild } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { OWNER_ENV, processGuard } from "../../src/proc/guard.ts";
import { processesWithEnv } from "../../src/proc/scan.ts";
import { isAlive, waitFor } from "./claude-helpers.ts";

const SCRIPT = resolve(import.meta.dir, "../fixtures/handler-worker.ts");
const GUARD_GRACE_MS = 1000;

interface Started {
  jobId: string;
  token: string;
  guardPid: number;
  guardFds: string[];
  fakePid: number;
  childPid?: number;
  setsidPid?: number;
}

const spawned: number[] = [];
afterAll(() => {
  for (const pid of spawned) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

async function startWorker(prompt: string, then: "wait" | "finish") {
  const proc = Bun.spawn([process.execPath, SCRIPT, prompt, then], {
    stdout: "pipe", stderr: "inherit", env: { ...process.env, GUARD_GRACE_MS: String(GUARD_GRACE_MS) },
  });
  spawned.push(proc.pid);
  const lines = readLines(proc.stdout);
  const first = await lines.next();
  if (first.done) throw new Error(`the worker stand-in exited (${await proc.exited}) before starting the job`);
  const started = JSON.parse(first.value) as Started;
  for (const pid of [started.fakePid, started.childPid, started.setsidPid, started.guardPid]) if (pid) spawned.push(pid);
  return { proc, started, lines };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

function fdTargets(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((fd) => {
    try {
      return readlinkSync(join(dir, fd));
    } catch {
      return "";
    }
  });
}

/** Waits until none of `pids` is alive; returns how long that took. */
async function allGone(pids: number[], timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  await waitFor(() => pids.every((pid) => !isAlive(pid)), timeoutMs, `pids ${pids.join(", ")} to be gone`);
  return performance.now() - t0;
}

describe("the worker is SIGKILLed", () => {
  test("the CLI, its child and a child that called setsid are gone within a few seconds", async () => {
    const { proc, started } = await startWorker("fake:spawn-child", "wait");
    const tree = [started.fakePid, started.childPid!, started.setsidPid!];
    expect(tree.every(isAlive)).toBe(true);
    // The escapee really left: its own session (and group); only its environment ties it to the job.
    expect(sessionOf(started.setsidPid!)).not.toBe(sessionOf(started.fakePid));

    proc.kill("SIGKILL");
    await proc.exited;
    const ms = await allGone(tree, 5000);
    console.log(`SIGKILL of the worker -> CLI, child and setsid child gone: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000); // the fake and sleep die on SIGTERM: no grace needed
    await allGone([started.guardPid], 3000); // and the guard leaves once done
    expect(processesWithEnv(OWNER_ENV, started.token)).toEqual([]);
  });

  test("a CLI that ignores SIGTERM gets SIGKILL after the guard's grace", async () => {
    const { proc, started } = await startWorker("fake:ignore-term", "wait");
    expect(isAlive(started.fakePid)).toBe(true);
    proc.kill("SIGKILL");
    await proc.exited;
    const ms = await allGone([started.fakePid], GUARD_GRACE_MS + 4000);
    console.log(`SIGKILL of the worker -> a SIGTERM-ignoring CLI gone: ${ms.toFixed(0)} ms (guard grace ${GUARD_GRACE_MS} ms)`);
    expect(ms).toBeGreaterThanOrEqual(GUARD_GRACE_MS - 100);
    await allGone([started.guardPid], 3000);
  });

  test("nothing but the worker holds the guard's pipe: not the CLI, its children, nor the guard", async () => {
    const { proc, started } = await startWorker("fake:spawn-child", "wait");
    try {
      expect(started.guardFds.length).toBeGreaterThan(0);
      for (const pid of [started.fakePid, started.childPid!, started.setsidPid!, started.guardPid]) {
        const held = fdTargets(pid).filter((t) => started.guardFds.includes(t));
        expect({ pid, held }).toEqual({ pid, held: [] });
      }
      // The guard holds its stdin and /dev/null, nothing of the worker's (a
      // database socket held by it would keep a dead worker's lock alive).
      const guardFds = fdTargets(started.guardPid);
      expect(guardFds).toHaveLength(3);
      expect(guardFds.slice(1)).toEqual(["/dev/null", "/dev/null"]);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    await allGone([started.fakePid, started.childPid!, started.setsidPid!, started.guardPid], 5000);
  });
});

test("a worker that ends cleanly leaves on its own and leaves no guard behind", async () => {
  const { proc, started, lines } = await startWorker("hello", "finish");
  expect(isAlive(started.guardPid)).toBe(true);
  const outcome = JSON.parse((await lines.next()).value as string) as { value?: { result?: string }; error?: string };
  expect(outcome.error).toBeUndefined();
  expect(outcome.value?.result).toBe("echo: hello");
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "still running")]);
  expect(code).toBe(0); // the guard does not hold the worker's event loop
  const ms = await allGone([started.guardPid], 3000);
  console.log(`clean exit of the worker -> guard gone: ${ms.toFixed(0)} ms`);
});

test("a guard killed while its parent lives is replaced, and the new one knows the live groups", async () => {
  const guard = processGuard({ graceMs: GUARD_GRACE_MS });
  const first = guard.pid!;
  expect(isAlive(first)).toBe(true);
  // A group with no owner token in its environment (env -i): only its
  // registration can get it stopped.
  const bare = spawnChild("env", ["-i", "sleep", "1000"], { detached: true, stdio: "ignore" });
  spawned.push(bare.pid!);
  guard.register(bare.pid!);
  process.kill(first, "SIGKILL");
  await waitFor(() => guard.pid !== undefined && guard.pid !== first, 5000, "a new guard");
  const second = guard.pid!;
  spawned.push(second);
  // Closing the pipe is what this process's death would do.
  guard.close();
  const ms = await allGone([bare.pid!], GUARD_GRACE_MS + 3000);
  console.log(`pipe closed -> re-registered group gone: ${ms.toFixed(0)} ms`);
  await allGone([second], 3000);
  expect(processGuard().pid).not.toBe(second); // the next caller gets a fresh guard
});

function sessionOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]!;
}
