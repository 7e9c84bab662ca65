// `claude-jobs migrate`: apply pending migrations; says what it did.

import { migrate } from "../../db/migrate.ts";
import { openDatabase, type CliContext } from "../context.ts";
import { DATABASE_URL_OPTION, JSON_OPTION, type CommandSpec, type ParsedCommand } from "../options.ts";

export const spec: CommandSpec = {
  name: "migrate",
  summary: "Apply the database migrations this program carries (safe to run again; concurrent runs wait for each other).",
  usage: "claude-jobs migrate [--database-url=URL]",
  options: { "database-url": DATABASE_URL_OPTION, json: JSON_OPTION },
};

export async function run(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const db = await openDatabase(ctx, { databaseUrl: values["database-url"] as string | undefined, requireSchema: false, max: 2 });
  try {
    const result = await migrate(db.sql);
    // The embedded database is migrated when it is opened: what that applied
    // is this command's work too, and is said as such.
    const onOpen = db.migratedOnOpen;
    if (values.json) ctx.out(JSON.stringify({ ...result, appliedWhenOpened: onOpen }));
    else if (onOpen.length > 0) {
      ctx.out(`the embedded database was migrated when it was opened: applied ${[...onOpen, ...result.applied].join(", ")}; ` +
        `schema is at migration ${result.version}`);
    } else if (result.applied.length === 0) ctx.out(`schema is up to date (migration ${result.version}); nothing to do`);
    else ctx.out(`applied ${result.applied.join(", ")}; schema is at migration ${result.version}`);
    return 0;
  } finally {
    await db.close();
  }
}
