// The attempt after a park, at the handler (no database): it resumes the
// parked session with the continuation prompt; a session that is not on this
// host (another host of the same account: sessions live under the HOME that
// ran them) does not fail the job: it runs its own prompt again, said in the
// stderr log.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClaudeUsageLimitError } from "../../src/handlers/claude/index.ts";
import { fakeEnv, makeHandler, makeJob, runJob, tempDir } from "../handlers/claude-helpers.ts";

const cwd = tempDir("usage-resume-cwd-");

describe("the attempt after a park", () => {
  test("resumes the parked session with the continuation prompt, in the same HOME", async () => {
    const argvFile = join(tempDir("usage-resume-argv-"), "argv.json");
    const env = fakeEnv({ FAKE_CLAUDE_ARGV_FILE: argvFile });
    const { handler } = makeHandler({ env, continuePrompt: "Carry on." });
    const first = await runJob(handler, makeJob({ prompt: "fake:limit-bare", cwd }));
    expect(first.error).toBeInstanceOf(ClaudeUsageLimitError);
    const parked = first.error!.result!;
    const session = (parked.usageLimit as { sessionId: string }).sessionId;
    expect(session).toBe(parked.sessionId as string);

    const again = await runJob(handler, makeJob({ prompt: "fake:limit-bare", cwd }, { result: parked }));
    expect(again.error).toBeUndefined();
    expect(again.value).toMatchObject({ continuedSession: session, sessionId: session, result: "echo: Carry on." });
    expect(JSON.parse(readFileSync(argvFile, "utf8"))).toEqual(expect.arrayContaining([`--resume=${session}`, "Carry on."]));
  });

  test("runs its own prompt again when the session is not on this host", async () => {
    const { handler } = makeHandler();
    const elsewhere = { sessionId: crypto.randomUUID(), usageLimit: { sessionId: crypto.randomUUID(), reason: "waiting" } };
    const { value, error } = await runJob(handler, makeJob({ prompt: "say hi", cwd }, { result: elsewhere }));
    expect(error).toBeUndefined();
    expect(value).toMatchObject({ result: "echo: say hi" });
    expect(value!.continuedSession).toBeUndefined();
    const stderr = readFileSync(value!.stderrLog as string, "utf8");
    expect(stderr).toContain(`the session ${elsewhere.usageLimit.sessionId} the job was parked with is not on this host; running its own prompt again`);
  });
});
