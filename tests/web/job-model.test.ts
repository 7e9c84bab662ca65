// The job page's "Model": the model the run used, as its result names it,
// else as its output's stream-json init event names it (also when the stored
// view holds only the tail of a long log), else what the payload asked for.
// Never "–" while the output names the model; always escaped.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { activeContent, insertJob, webFixture, type WebFixture } from "./helpers.ts";

let f: WebFixture;
let logDir: string;
beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "cj-web-model-"));
  f = await webFixture({ logs: { dir: logDir } });
});
afterAll(async () => { await f.db.drop(); });

/** A result as an older or partial run stored it: no model. */
const RESULT = { sessionId: "5f1d0c3e-0000-4000-8000-000000000002", totalCostUsd: 0.02, numTurns: 2, subtype: "success", result: "Done." };

const modelShown = async (id: string) => {
  const html = await (await f.request("GET", `/jobs/${id}`, { headers: { accept: "text/html" } })).text();
  expect(await activeContent(html)).toEqual([]);
  return /<dt>Model<\/dt><dd[^>]*>([^<]*)<\/dd>/.exec(html)?.[1];
};

const writeLog = (id: string, stamp: string, lines: unknown[], padding = "") =>
  writeFileSync(join(logDir, `${id}-${stamp}.stdout.log`), lines.map((e) => JSON.stringify(e)).join("\n") + "\n" + padding);

const init = (model: string) => ({ type: "system", subtype: "init", model, cwd: "/tmp", session_id: RESULT.sessionId });
const assistant = (model: string) => ({ type: "assistant", message: { model, content: [{ type: "text", text: "hi" }] } });
const result = { type: "result", subtype: "success", is_error: false, result: "Done.", num_turns: 2, total_cost_usd: 0.02 };

test("a result without a model shows the model the output's init event names", async () => {
  const id = await insertJob(f.db, { status: "finished", result: RESULT });
  writeLog(id, "20250102-030405", [init("claude-opus-4-1"), assistant("claude-opus-4-1"), result]);
  expect(await modelShown(id)).toBe("claude-opus-4-1");
});

test("the newest attempt's output wins; a failure's <synthetic> model is not a model", async () => {
  const id = await insertJob(f.db, { status: "finished", attempts: 2, result: RESULT });
  writeLog(id, "20250102-030405", [init("claude-sonnet-4-5"), assistant("<synthetic>"), result]);
  writeLog(id, "20250102-040506", [init("claude-opus-4-1"), result]);
  expect(await modelShown(id)).toBe("claude-opus-4-1");
  const synthetic = await insertJob(f.db, { status: "failed", result: RESULT, payload: { prompt: "x", cwd: "/tmp" } });
  writeLog(synthetic, "20250102-030405", [init("<synthetic>"), assistant("<synthetic>"), result]);
  expect(await modelShown(synthetic)).toBe("–");
});

test("a long log whose stored tail lost the init line still names the model", async () => {
  const id = await insertJob(f.db, { status: "finished", result: RESULT });
  const filler = (JSON.stringify(assistant("claude-haiku-4-5")) + "\n").repeat(12_000); // ~1.2 MiB, past the stored tail
  writeLog(id, "20250102-030405", [init("claude-haiku-4-5")], filler + JSON.stringify(result) + "\n");
  expect(await modelShown(id)).toBe("claude-haiku-4-5");
});

test("the result's model comes first; without result or output model, the payload's; else –", async () => {
  const named = await insertJob(f.db, { status: "finished", result: { ...RESULT, model: "claude-sonnet-4-6" } });
  writeLog(named, "20250102-030405", [init("something-else"), result]);
  expect(await modelShown(named)).toBe("claude-sonnet-4-6");
  const asked = await insertJob(f.db, { status: "finished", result: RESULT, payload: { prompt: "x", cwd: "/tmp", model: "sonnet" } });
  expect(await modelShown(asked)).toBe("sonnet");
  const none = await insertJob(f.db, { status: "finished", result: RESULT });
  expect(await modelShown(none)).toBe("–");
});

test("a hostile model name from the output is shown as text", async () => {
  const id = await insertJob(f.db, { status: "finished", result: RESULT });
  writeLog(id, "20250102-030405", [init(`<img src=x onerror=alert(1)>"`), result]);
  expect(await modelShown(id)).toBe("&lt;img src=x onerror=alert(1)&gt;&quot;");
});

test("the Outcome of a failed run the CLI calls subtype success (is_error) reads error, not success", async () => {
  const outcome = async (id: string) => {
    const html = await (await f.request("GET", `/jobs/${id}`, { headers: { accept: "text/html" } })).text();
    return /<dt>Outcome<\/dt><dd[^>]*>([^<]*)<\/dd>/.exec(html)?.[1];
  };
  const failed = await insertJob(f.db, { status: "failed", result: { ...RESULT, isError: true, result: "Not logged in · Please run /login" } });
  expect(await outcome(failed)).toBe("error");
  const maxTurns = await insertJob(f.db, { status: "failed", result: { ...RESULT, isError: true, subtype: "error_max_turns" } });
  expect(await outcome(maxTurns)).toBe("error (error_max_turns)");
  const ok = await insertJob(f.db, { status: "finished", result: { ...RESULT, isError: false } });
  expect(await outcome(ok)).toBe("success");
});
