// Runs once before the test files of a `bun test` process: makes sure the
// migrated template database exists, failing loudly when PostgreSQL is
// missing. The per-test timeout is `bun run test`'s --timeout 30000: bun
// 1.4.5 ignores bunfig's [test] timeout, and setDefaultTimeout here would
// cover only the first file.
import { ensureTemplate } from "../helpers/db.ts";

await ensureTemplate();
