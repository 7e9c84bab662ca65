// Runs once before the test files of a `bun test` process: makes sure the
// migrated template database exists (failing loudly when PostgreSQL is
// missing) and sets the per-test timeout. bunfig's [test] timeout is not
// honoured by bun 1.4.5, and integration tests that start processes and
// servers need more than the 5 s default on a busy 2-core machine.
import { setDefaultTimeout } from "bun:test";
import { ensureTemplate } from "../helpers/db.ts";

setDefaultTimeout(30_000);
await ensureTemplate();
