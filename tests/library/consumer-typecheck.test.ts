// claude-jobs as a TypeScript user meets it: a Bun project that depends on
// it (node_modules/claude-jobs), with the tsconfig `bun init` writes, and
// the README's library example. Its `tsc --noEmit` must be clean: the
// modules we import as text (.sql, .sh) are declared for it too.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/engine.ts";

const project = mkdtempSync(join(tmpdir(), "claude-jobs-consumer-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const TSCONFIG = {
  compilerOptions: {
    lib: ["ESNext"], target: "ESNext", module: "Preserve", moduleDetection: "force", jsx: "react-jsx",
    allowJs: true, moduleResolution: "bundler", allowImportingTsExtensions: true, verbatimModuleSyntax: true,
    noEmit: true, strict: true, skipLibCheck: true, noFallthroughCasesInSwitch: true,
    noUncheckedIndexedAccess: true, noImplicitOverride: true, types: ["bun"],
  },
};

const EXAMPLE = `import postgres from "postgres";
import { migrate, Queue, Worker, PermanentJobError, type HandlerContext } from "claude-jobs";

const sql = postgres(process.env.DATABASE_URL!);
await migrate(sql);
const queue = new Queue(sql);
await queue.enqueue({ kind: "email", queue: "mail", payload: { to: "a@example.com" } });
await sql.begin((tx) => queue.enqueue({ kind: "email", queue: "mail", payload: { to: "b@example.com" } }, { tx }));

const worker = new Worker({ sql, queues: ["mail"], concurrency: 5, handlers: {
  email: async ({ job, signal }: HandlerContext) => {
    if (signal.aborted) throw new PermanentJobError("stopped");
    return { sent: String(job.payload.to) };
  },
}});
await worker.start();
await worker.stop({ timeoutMs: 30_000 });
await sql.end();
`;

test("a project that depends on claude-jobs type-checks the README's library example with no error", async () => {
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(project, "index.ts"), EXAMPLE);
  // Its node_modules, as `bun add claude-jobs postgres` and `bun add -d @types/bun` leave it.
  mkdirSync(join(project, "node_modules/@types"), { recursive: true });
  symlinkSync(REPO, join(project, "node_modules/claude-jobs"));
  for (const dep of ["postgres", "@types/bun", "@types/node", "bun-types", "undici-types"]) {
    symlinkSync(join(REPO, "node_modules", dep), join(project, "node_modules", dep));
  }
  const tsc = Bun.spawn([join(REPO, "node_modules/.bin/tsc"), "--noEmit", "-p", project], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(tsc.stdout).text(), new Response(tsc.stderr).text(), tsc.exited]);
  expect({ code, out: out.trim(), err: err.trim() }).toEqual({ code: 0, out: "", err: "" });
}, 60_000);
