// Runs once before the test files of a `bun test` process: makes sure the
// migrated template database exists. Fails loudly when PostgreSQL is missing.
import { ensureTemplate } from "../helpers/db.ts";

await ensureTemplate();
