// Test databases: one migrated template per run (made by the preload), and a
// fresh database per test file cloned from it, so files can run in parallel
// and never see each other's rows. A missing PostgreSQL fails the run: there
// is no skipping.

import postgres from "postgres";
import { createHash } from "node:crypto";
import { MIGRATIONS, migrate } from "../../src/db/migrate.ts";
import { createSql, type Sql } from "../../src/db/connect.ts";

/** The server tests run against: TEST_DATABASE_URL, else the local PostgreSQL. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The template's name changes whenever a migration does, so a stale template is never used. */
export const TEMPLATE = `claude_jobs_tpl_${createHash("sha256").update(MIGRATIONS.map((m) => m.sql).join("\n")).digest("hex").slice(0, 12)}`;

function admin() {
  return postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

export async function ensureTemplate(): Promise<void> {
  const sql = admin();
  try {
    await sql`SELECT 1`.catch((e: unknown) => {
      throw new Error(`tests need PostgreSQL at ${ADMIN_URL} (set TEST_DATABASE_URL, or run .ci/run which starts one): ${(e as Error).message}`);
    });
    // A session lock (one connection: max 1) so parallel test runs make the template once.
    await sql`SELECT pg_advisory_lock(17224, 0)`;
    const [exists] = await sql`SELECT 1 FROM pg_database WHERE datname = ${TEMPLATE}`;
    if (!exists) {
      const building = `${TEMPLATE}_building`;
      await sql.unsafe(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await sql.unsafe(`CREATE DATABASE ${building}`);
      const tpl = createSql(urlFor(building), { max: 1 });
      try {
        await migrate(tpl);
      } finally {
        await tpl.end();
      }
      // Renamed only once migrated: a half-built template is never cloned.
      await sql.unsafe(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE}`);
    }
    await sql`SELECT pg_advisory_unlock(17224, 0)`;
  } finally {
    await sql.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** A fresh migrated database for one test file. Call `drop` in afterAll. */
export async function createTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const name = `claude_jobs_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  } finally {
    await sql.end();
  }
  const url = urlFor(name);
  const db = createSql(url, { max: options.max ?? 10 });
  return {
    name,
    url,
    sql: db,
    async drop() {
      await db.end({ timeout: 1 });
      const a = admin();
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
