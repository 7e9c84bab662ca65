// The queue's own checks, for library callers (the CLI and the dashboard go
// through them too): values PostgreSQL would refuse (a 500, or a driver
// error) or store changed are InputErrors naming the field, and nothing is
// written. Against a real database.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Queue } from "../../src/queue/client.ts";
import { InputError } from "../../src/errors.ts";
import { parseIsoTime, validateJsonValue } from "../../src/queue/validate.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase;
let queue: Queue;
beforeAll(async () => {
  db = await createTestDatabase();
  queue = new Queue(db.sql);
});
afterAll(async () => { await db.drop(); });

const count = async () => (await db.sql`SELECT count(*)::int AS n FROM claude_jobs`)[0]!.n as number;

async function refuses(run: () => Promise<unknown>, field: string) {
  const before = await count();
  const error = await run().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).field).toBe(field);
  expect(await count()).toBe(before);
}

describe("enqueue", () => {
  test("a payload PostgreSQL cannot store as given is refused naming the place", async () => {
    await refuses(() => queue.enqueue({ kind: "mail", payload: { to: "a\u0000" } }), "payload.to");
    await refuses(() => queue.enqueue({ kind: "mail", payload: { "bad key": { deeper: ["\ud800"] } } }), 'payload["bad key"].deeper[0]');
    await refuses(() => queue.enqueue({ kind: "mail", payload: { n: Number.NaN } }), "payload.n");
    await refuses(() => queue.enqueue({ kind: "mail", payload: { n: Infinity } }), "payload.n");
    await refuses(() => queue.enqueue({ kind: "mail", payload: { at: new Date() } }), "payload.at");
    await refuses(() => queue.enqueue({ kind: "mail", payload: { big: 10n } as never }), "payload.big");
    await refuses(() => queue.enqueue({ kind: "mail", payload: { list: [1, undefined] } }), "payload.list[1]");
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    await refuses(() => queue.enqueue({ kind: "mail", payload: { deep } }), "payload");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, concurrencyKey: "k\u0000" }), "concurrency_key");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, concurrencyKey: "\udfffk" }), "concurrency_key");
  });

  test("run_at is a real calendar time within 1970-9999, as a string or a Date", async () => {
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, runAt: "2026-02-30T09:00:00Z" }), "run_at");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, runAt: "0000-01-01T00:00:00Z" }), "run_at");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, runAt: new Date("invalid") }), "run_at");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, runAt: new Date(8.64e15) }), "run_at");
    await refuses(() => queue.enqueue({ kind: "mail", payload: {}, runAt: new Date(Date.UTC(0, 0, 1) - 86_400_000 * 366 * 2000) }), "run_at");
    const id = await queue.enqueue({ kind: "mail", payload: {}, runAt: "2026-12-01 09:00:00+02:00" });
    expect((await queue.get(id)).runAt.toISOString()).toBe("2026-12-01T07:00:00.000Z");
    expect(parseIsoTime("t", "2024-02-29").toISOString()).toBe("2024-02-29T00:00:00.000Z");
  });

  test("a plain, finite, well-formed payload passes as it is", () => {
    expect(() => validateJsonValue("payload", { a: [1, "two", null, true, { b: "\ud83d\ude00" }], skipped: undefined })).not.toThrow();
  });
});

describe("list", () => {
  test("a crafted cursor (extreme year, year 0, not ours) or a kind with NUL is an InputError, not a database error", async () => {
    const cursor = (time: string) => Buffer.from(`${time}|0192f1c4-7b1e-7cc0-8d2a-5e1f0a9b3c4d`).toString("base64url");
    for (const time of ["+275760-09-13T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "2026-02-30T00:00:00.000Z", "2026-01-01"]) {
      await refuses(() => queue.list({ cursor: cursor(time) }), "cursor");
    }
    await refuses(() => queue.list({ kind: "mail\u0000" }), "kind");
    const { jobs } = await queue.list({ cursor: cursor(new Date().toISOString()) });
    expect(Array.isArray(jobs)).toBe(true);
  });
});
