// Starts bench/worker-child.ts as its own process and reads its JSON lines.

import { join } from "node:path";

export interface WorkerChild {
  /** Resolves once the worker has committed `count` finished jobs in all. */
  finished(count: number): Promise<void>;
  onLatency(listener: (ms: number, seq: number) => void): void;
  /** Stops the worker; resolves with its peak RSS in MB. */
  stop(): Promise<number>;
}

export async function startWorkerChild(url: string, concurrency: number): Promise<WorkerChild> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "worker-child.ts"), url, String(concurrency)], {
    stdout: "pipe", stderr: "inherit",
  });
  const latencyListeners: ((ms: number, seq: number) => void)[] = [];
  let onReady: () => void = () => {};
  let onRss: (mb: number) => void = () => {};
  let finishedSoFar = 0;
  const finishWaiters: { count: number; resolve: () => void }[] = [];
  const ready = new Promise<void>((r) => (onReady = r));
  const rss = new Promise<number>((r) => (onRss = r));
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffered.slice(0, nl)) as Record<string, number>;
        buffered = buffered.slice(nl + 1);
        if (msg.ready) onReady();
        if (msg.latencyMs !== undefined) for (const l of latencyListeners) l(msg.latencyMs, msg.seq!);
        if (msg.peakRssMb !== undefined) onRss(msg.peakRssMb);
        if (msg.finished !== undefined) {
          finishedSoFar = msg.finished;
          for (const w of finishWaiters.filter((w) => w.count <= finishedSoFar)) w.resolve();
        }
      }
    }
  })();
  await ready;
  let stopped: Promise<number> | null = null;
  return {
    onLatency: (l) => latencyListeners.push(l),
    finished: (count) => count <= finishedSoFar ? Promise.resolve() : new Promise((resolve) => finishWaiters.push({ count, resolve })),
    stop: () => {
      stopped ??= (async () => {
        proc.kill("SIGTERM");
        const mb = await rss;
        await proc.exited;
        return mb;
      })();
      return stopped;
    },
  };
}
