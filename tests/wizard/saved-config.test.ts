// What the wizard saves is read back by src/config.ts, and older files stay readable.

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile, saveConfigFile } from "../../src/config.ts";
import { tempDir } from "../helpers/cli.ts";

function envWith(content?: string) {
  const path = join(tempDir("cj-config-"), "config.json");
  if (content !== undefined) writeFileSync(path, content, { mode: 0o600 });
  return { CLAUDE_JOBS_CONFIG: path };
}

test("the embedded choice is saved and read back", () => {
  const env = envWith();
  saveConfigFile(env, { database: "embedded" });
  expect(loadConfigFile(env)).toEqual({ database: "embedded", databaseUrl: undefined });
});

test("older files stay readable: {} and a database URL", () => {
  expect(loadConfigFile(envWith("{}"))).toEqual({ databaseUrl: undefined });
  expect(loadConfigFile(envWith(JSON.stringify({ databaseUrl: "postgres://h/db" })))).toEqual({ databaseUrl: "postgres://h/db" });
});

test("an unknown database choice is refused, naming the field", () => {
  expect(() => loadConfigFile(envWith(JSON.stringify({ database: "sqlite" })))).toThrow(/database must be "embedded"/);
});
