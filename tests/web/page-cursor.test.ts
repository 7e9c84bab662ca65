// A list page that is exactly full is not a sign of more: the API and the
// dashboard give a next cursor only when another job follows.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { insertJob, webFixture, type WebFixture } from "./helpers.ts";

let f: WebFixture;
beforeAll(async () => { f = await webFixture(); });
afterAll(async () => { await f.db.drop(); });

test("an exactly full page has no next cursor; one more job gives one, and its page holds that job", async () => {
  for (let i = 0; i < 3; i++) await insertJob(f.db, { status: "finished" });
  const full = await f.request("GET", "/api/jobs?limit=3");
  expect(full.status).toBe(200);
  expect((await full.json()).length).toBe(3);
  expect(full.headers.get("x-next-cursor")).toBeNull();
  expect(await (await f.request("GET", "/jobs?limit=3", { headers: { accept: "text/html" } })).text()).not.toContain("cursor=");

  const extra = await insertJob(f.db, { status: "finished" });
  const first = await f.request("GET", "/api/jobs?limit=3");
  const cursor = first.headers.get("x-next-cursor");
  expect(cursor).not.toBeNull();
  const second = await f.request("GET", `/api/jobs?limit=3&cursor=${cursor}`);
  const rest = (await second.json()) as { id: string }[];
  expect(rest.length).toBe(1);
  expect(second.headers.get("x-next-cursor")).toBeNull();
  expect([...(await first.json()).map((j: { id: string }) => j.id), ...rest.map((j) => j.id)]).toContain(extra);
});
