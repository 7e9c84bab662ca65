// Migrations: every file of sql/migrations applied once, in order; running
// again changes nothing; two migrators at once on an empty database both
// succeed and apply each migration once; a newer schema is refused.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { createSql } from "../../src/db/connect.ts";
import { checkSchema, migrate } from "../../src/db/migrate.ts";
import { SchemaTooNewError } from "../../src/errors.ts";
import { ADMIN_URL, createTestDatabase, urlFor, type TestDatabase } from "../helpers/db.ts";
import { REPO } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";

// Generous: the suite shares a small machine; waits inside tests have their own deadlines.
setDefaultTimeout(30_000);

const FILES = readdirSync(join(REPO, "sql/migrations")).filter((f) => f.endsWith(".sql")).sort();

let db: TestDatabase;
const emptyDatabases: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  for (const name of emptyDatabases) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

async function emptyDatabase(): Promise<string> {
  const name = `claude_jobs_empty_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  emptyDatabases.push(name);
  return urlFor(name);
}

describe("migrations", () => {
  test("the applied migrations are exactly the files in sql/migrations, in order", async () => {
    const rows = await db.sql`SELECT version, name FROM claude_jobs_migrations ORDER BY version`;
    expect(FILES.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.name)).toEqual(FILES);
    expect(rows.map((r) => r.version)).toEqual(FILES.map((f) => Number.parseInt(f, 10)));
  });

  test("running migrate again applies nothing and changes no row", async () => {
    const before = await db.sql`SELECT version, name, applied_at FROM claude_jobs_migrations ORDER BY version`;
    const result = await migrate(db.sql);
    expect(result.applied).toEqual([]);
    const after = await db.sql`SELECT version, name, applied_at FROM claude_jobs_migrations ORDER BY version`;
    expect(after).toEqual(before);
  });

  test("`claude-jobs migrate` on an up-to-date database says there is nothing to do", async () => {
    const { code, stdout } = await runCli(["migrate", `--database-url=${db.url}`]);
    expect(code).toBe(0);
    expect(stdout).toContain("nothing to do");
  });

  test("two migrators started at once on an empty database both succeed and each migration is applied once", async () => {
    const url = await emptyDatabase();
    const a = createSql(url, { max: 1 });
    const b = createSql(url, { max: 1 });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra.applied, ...rb.applied].sort()).toEqual(FILES);
      const rows = await a`SELECT name FROM claude_jobs_migrations ORDER BY version`;
      expect(rows.map((r) => r.name)).toEqual(FILES);
      const [table] = await a`SELECT to_regclass('claude_jobs') IS NOT NULL AS ok`;
      expect(table!.ok).toBe(true);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  test("two `claude-jobs migrate` processes at once on an empty database both exit 0", async () => {
    const url = await emptyDatabase();
    const [one, two] = await Promise.all([
      runCli(["migrate", `--database-url=${url}`]),
      runCli(["migrate", `--database-url=${url}`]),
    ]);
    expect([one.code, two.code]).toEqual([0, 0]);
    // Each applies what it finds to do under the lock (they may share the work
    // one migration each); together they applied every file exactly once.
    const applied = [one.stdout, two.stdout].flatMap((o) => /^applied (.*); schema/.exec(o)?.[1]?.split(", ") ?? []);
    expect(applied.sort()).toEqual(FILES);
  });

  describe("a database whose schema is newer than the program", () => {
    let newer: TestDatabase;
    beforeAll(async () => {
      newer = await createTestDatabase();
      await newer.sql`INSERT INTO claude_jobs_migrations (version, name) VALUES (99, '099_future.sql')`;
    });
    afterAll(() => newer.drop());

    test("migrate and checkSchema throw SchemaTooNewError and change nothing", async () => {
      await expect(migrate(newer.sql)).rejects.toBeInstanceOf(SchemaTooNewError);
      await expect(checkSchema(newer.sql)).rejects.toBeInstanceOf(SchemaTooNewError);
      const rows = await newer.sql`SELECT version FROM claude_jobs_migrations ORDER BY version`;
      expect(rows.map((r) => r.version)).toEqual([...FILES.map((f) => Number.parseInt(f, 10)), 99]);
    });

    test("the CLI says so on one line and exits 1", async () => {
      for (const command of ["migrate", "list"]) {
        const { code, stderr, stdout } = await runCli([command, `--database-url=${newer.url}`]);
        expect(code).toBe(1);
        expect(stdout).toBe("");
        expect(stderr.trim().split("\n")).toHaveLength(1);
        expect(stderr).toContain("newer than this program");
      }
    });
  });
});
