// Numbered, forward-only migrations compiled into the program. Each applies
// once, in its own transaction, under a transaction-scoped advisory lock, so
// two migrators started at once serialize: one applies, the other then finds
// nothing to do. A database newer than the program is refused, not touched.

import type { Sql } from "./connect.ts";
import { ConfigError, SchemaTooNewError } from "../errors.ts";
import type { TransactionSql } from "postgres";
import m001 from "../../sql/migrations/001_jobs.sql" with { type: "text" };
import m002 from "../../sql/migrations/002_dashboard.sql" with { type: "text" };
import m003 from "../../sql/migrations/003_liveness.sql" with { type: "text" };
import m004 from "../../sql/migrations/004_waiting.sql" with { type: "text" };
import m005 from "../../sql/migrations/005_flow.sql" with { type: "text" };
import m006 from "../../sql/migrations/006_schedules.sql" with { type: "text" };
import m007 from "../../sql/migrations/007_usage_limits.sql" with { type: "text" };
import m008 from "../../sql/migrations/008_budgets.sql" with { type: "text" };
import m009 from "../../sql/migrations/009_webhooks.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Keep in step with sql/migrations/ (a test checks it). */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001_jobs.sql", sql: m001 },
  { version: 2, name: "002_dashboard.sql", sql: m002 },
  { version: 3, name: "003_liveness.sql", sql: m003 },
  { version: 4, name: "004_waiting.sql", sql: m004 },
  { version: 5, name: "005_flow.sql", sql: m005 },
  { version: 6, name: "006_schedules.sql", sql: m006 },
  { version: 7, name: "007_usage_limits.sql", sql: m007 },
  { version: 8, name: "008_budgets.sql", sql: m008 },
  { version: 9, name: "009_webhooks.sql", sql: m009 },
];

const MIGRATOR_LOCK = 17225; // pg_advisory_xact_lock(17225, 0): the migrator's lock

export interface MigrateResult {
  applied: string[];
  version: number;
}

export async function migrate(sql: Sql): Promise<MigrateResult> {
  const applied: string[] = [];
  for (;;) {
    // One migration per transaction; re-read the version under the lock each
    // time so a concurrent migrator's work is seen, never repeated.
    const next = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATOR_LOCK}, 0)`;
      // Created only when missing: IF NOT EXISTS on an existing table raises
      // a NOTICE, which a pool with postgres.js's default onnotice prints on
      // every start of the user's program.
      const [table] = await tx`SELECT to_regclass('claude_jobs_migrations') IS NOT NULL AS present`;
      if (!table!.present) {
        await tx`CREATE TABLE claude_jobs_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
      }
      const current = await currentVersion(tx);
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      if (current > latest) throw new SchemaTooNewError(current, latest);
      const migration = MIGRATIONS.find((m) => m.version === current + 1);
      if (!migration) return null;
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO claude_jobs_migrations (version, name) VALUES (${migration.version}, ${migration.name})`;
      return migration.name;
    });
    if (next === null) break;
    applied.push(next);
  }
  return { applied, version: MIGRATIONS.at(-1)?.version ?? 0 };
}

async function currentVersion(sql: Sql | TransactionSql): Promise<number> {
  const [row] = await sql`SELECT coalesce(max(version), 0)::int AS version FROM claude_jobs_migrations`;
  return (row?.version as number) ?? 0;
}

/** Fails unless the schema is exactly what this program expects. Run at worker/dashboard start. */
export async function checkSchema(sql: Sql): Promise<void> {
  const [exists] = await sql`SELECT to_regclass('claude_jobs_migrations') IS NOT NULL AS ok`;
  const current = exists?.ok ? await currentVersion(sql) : 0;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new SchemaTooNewError(current, latest);
  if (current < latest) {
    throw new ConfigError(
      `the database schema is at migration ${current} of ${latest}: run \`claude-jobs migrate\` first`,
    );
  }
}
