// A real pseudo-terminal for the wizard tests: a tmux session of fixed size
// on a private tmux server (its own socket), driven with send-keys and read
// with capture-pane. Waits poll the screen for expected text; no fixed sleeps.
// The command runs under `env -i` with exactly the environment given, and its
// exit code is printed as `[exit N]` when it ends.

const SOCKET = `claude-jobs-test-${process.pid}`;
let sessions = 0;

function tmux(...args: string[]): string {
  const r = Bun.spawnSync(["tmux", "-L", SOCKET, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export class Terminal {
  private constructor(readonly name: string) {}

  static start(command: string[], options: { env: Record<string, string>; cwd: string; width?: number; height?: number }): Terminal {
    const name = `t${++sessions}`;
    const env = Object.entries(options.env).map(([k, v]) => quote(`${k}=${v}`)).join(" ");
    const line = `cd ${quote(options.cwd)} && env -i ${env} ${command.map(quote).join(" ")}; echo "[exit $?]"; sleep 3600`;
    tmux("new-session", "-d", "-s", name, "-x", String(options.width ?? 120), "-y", String(options.height ?? 40), line);
    return new Terminal(name);
  }

  /** The whole screen and its scrollback, wrapped lines joined. */
  screen(): string {
    return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", this.name);
  }

  /** Waits until the screen shows `what` (after `since` characters of it, if given); returns the match. */
  async waitFor(what: string | RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const re = typeof what === "string" ? new RegExp(what.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : what;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.screen());
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} on the screen:\n${this.screen()}`);
      await Bun.sleep(25);
    }
  }

  /** Waits until `what` appears more than `count` times: for a prompt asked again. */
  async waitForCount(what: string, count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.screen().split(what).length - 1 <= count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(what)} #${count + 1}:\n${this.screen()}`);
      await Bun.sleep(25);
    }
  }

  type(text: string): void {
    tmux("send-keys", "-t", this.name, "-l", text);
  }

  press(...keys: string[]): void {
    for (const key of keys) tmux("send-keys", "-t", this.name, key);
  }

  /** The command's exit code, once it has ended. */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    const m = await this.waitFor(/\[exit (\d+)\]/, timeoutMs);
    return Number(m[1]);
  }

  kill(): void {
    try {
      tmux("kill-session", "-t", this.name);
    } catch {
      // already gone
    }
  }
}

/** Stops the private tmux server (every session of this test process). */
export function killTerminals(): void {
  Bun.spawnSync(["tmux", "-L", SOCKET, "kill-server"], { stdout: "ignore", stderr: "ignore" });
}
