// Running git to READ a repository for people (the diff view, `claude-jobs
// diff`): argv arrays, never a shell; a timeout; output read up to a bound,
// then the process is killed. The repository is the user's, but what is in
// it (file names, contents, attributes, a config an agent could have edited)
// is not to be trusted: git is run with colours, pagers, external diff and
// textconv drivers, fsmonitor and optional locks turned off, and without
// the GIT_* variables of the caller that would point it elsewhere.
// Nothing here writes to a repository.

/** What every read passes before the subcommand: stable, parseable output whatever the user's config says. */
export const READ_CONFIG = [
  "-c", "core.quotepath=off",
  "-c", "core.fsmonitor=false",
  "-c", "color.ui=never",
  "-c", "diff.noprefix=false",
  "-c", "diff.mnemonicPrefix=false",
  "-c", "diff.relative=false",
  "-c", "diff.suppressBlankEmpty=false",
  "--no-pager",
];

/** Default time one git read may take. */
export const GIT_READ_TIMEOUT_MS = 20_000;

export interface GitReadOptions {
  /** Stop reading (and kill git) after this many bytes of stdout; the result says it was cut. */
  maxBytes: number;
  timeoutMs?: number;
  /** Variables set for this git alone (GIT_INDEX_FILE for a snapshot), over gitEnv's. */
  env?: Record<string, string>;
}

export interface GitReadResult {
  code: number | null;
  stdout: Uint8Array;
  /** stdout went beyond maxBytes: only the first maxBytes are here. */
  truncated: boolean;
  stderr: string;
  timedOut: boolean;
}

/** The environment for git: the caller's, minus what redirects or decorates git. */
export function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GIT_")) env[k] = v;
  return { ...env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", GIT_CONFIG_NOSYSTEM: "1", GIT_PAGER: "cat" };
}

/** `git -C <repository> <READ_CONFIG> <args>`, as an argv array. */
export function gitArgv(repository: string, args: string[]): string[] {
  return ["git", "-C", repository, ...READ_CONFIG, ...args];
}

/** Runs git and reads its stdout up to a bound. Never throws for git's own failures: see `code` and `stderr`. */
export async function gitRead(repository: string, args: string[], options: GitReadOptions): Promise<GitReadResult> {
  const proc = Bun.spawn(gitArgv(repository, args), { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...gitEnv(), ...options.env } });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, options.timeoutMs ?? GIT_READ_TIMEOUT_MS);
  try {
    const stderr = readText(proc.stderr, 16 * 1024);
    const chunks: Uint8Array[] = [];
    let size = 0;
    let truncated = false;
    const reader = proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > options.maxBytes) {
        chunks.push(value.subarray(0, options.maxBytes - size));
        size = options.maxBytes;
        truncated = true;
        proc.kill("SIGKILL");
        await reader.cancel().catch(() => {});
        break;
      }
      chunks.push(value);
      size += value.length;
    }
    const code = await proc.exited;
    return { code: truncated || timedOut ? null : code, stdout: concat(chunks, size), truncated, stderr: await stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs git and hands its stdout on as a stream (the raw patch download):
 * nothing is held in memory. The process is killed when the consumer cancels
 * or after the timeout; `ok` resolves to whether git exited 0, and a stream
 * whose git did not ends in an error.
 */
export function gitStream(repository: string, args: string[], timeoutMs = 10 * GIT_READ_TIMEOUT_MS): { stream: ReadableStream<Uint8Array>; ok: Promise<boolean> } {
  const proc = Bun.spawn(gitArgv(repository, args), { stdin: "ignore", stdout: "pipe", stderr: "ignore", env: gitEnv() });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const ok = proc.exited.then((code) => code === 0).finally(() => clearTimeout(timer));
  const reader = proc.stdout.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (!done) return controller.enqueue(value);
      // A git that failed or was stopped by the timeout gave a patch cut short: an error, never a quiet end.
      if (await ok) controller.close();
      else controller.error(new Error(`git ${args[0] ?? ""} failed or timed out in ${repository}; the patch is incomplete`));
    },
    cancel() {
      proc.kill("SIGKILL");
      return reader.cancel().catch(() => {});
    },
  });
  return { stream, ok };
}

/** A short git command's stdout as text, trimmed; null when git failed. */
export async function gitText(repository: string, args: string[], maxBytes = 64 * 1024, env?: Record<string, string>): Promise<string | null> {
  const r = await gitRead(repository, args, { maxBytes, env });
  return r.code === 0 ? new TextDecoder().decode(r.stdout).trim() : null;
}

async function readText(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size < max) chunks.push(chunk.subarray(0, max - size));
    size += chunk.length;
  }
  return new TextDecoder().decode(concat(chunks, Math.min(size, max)));
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
