// Dashboard test helpers: an app over a fresh test database, requests through
// app.handle, and job rows inserted directly in any state (fixtures, not the
// engine's code paths).

import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { Queue } from "../../src/queue/client.ts";
import { createApp, type AppDeps } from "../../src/web/app.tsx";

export const BASE = "http://localhost";

/** The fixtures' access token (every mode needs one). */
export const TEST_TOKEN = "test-token-0123456789-abcdefghijklmnopqrstuvwxyz";

export interface RequestInit2 {
  json?: unknown;
  form?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** false: send no token (by default the fixture's bearer token goes along unless a cookie or authorization is given). */
  auth?: boolean;
}

export interface WebFixture {
  db: TestDatabase;
  queue: Queue;
  app: ReturnType<typeof createApp>;
  token: string;
  /** A request through the app; JSON bodies are encoded, forms too (URLSearchParams). */
  request(method: string, path: string, init?: RequestInit2): Promise<Response>;
}

export async function webFixture(deps: Partial<AppDeps> = {}): Promise<WebFixture> {
  const db = await createTestDatabase();
  const queue = new Queue(db.sql);
  const token = deps.token ?? TEST_TOKEN;
  // unservedTtlMs 0: tests read the count fresh after starting or stopping workers.
  const app = createApp({ queue, sql: db.sql, onError: () => {}, unservedTtlMs: 0, ...deps, token });
  return {
    db, queue, app, token,
    request(method, path, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const given = Object.keys(headers).some((k) => ["authorization", "cookie"].includes(k.toLowerCase()));
      if (init.auth !== false && !given) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (init.json !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(init.json);
      } else if (init.form) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(init.form)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
        body = params.toString();
      }
      return app.handle(new Request(BASE + path, { method, headers, body }));
    },
  };
}

export interface JobRow {
  status?: "queued" | "running" | "finished" | "failed" | "cancelled";
  kind?: string;
  queue?: string;
  priority?: number;
  payload?: Record<string, unknown>;
  /** Seconds from now (negative: past). */
  runInSeconds?: number;
  createdSecondsAgo?: number;
  attempts?: number;
  errors?: { attempt: number; at: string; message: string }[];
  result?: Record<string, unknown> | null;
  workerId?: number;
}

/** Inserts a job row in the given state, satisfying the table's constraints. Returns its id. */
export async function insertJob(db: TestDatabase, j: JobRow = {}): Promise<string> {
  const status = j.status ?? "queued";
  const final = status === "finished" || status === "failed" || status === "cancelled";
  const attempts = j.attempts ?? (status === "queued" ? 0 : 1);
  const [row] = await db.sql`
    INSERT INTO claude_jobs (id, kind, queue, priority, status, payload, run_at, attempts, max_attempts, worker_id,
                             errors, error, result, created_at, started_at, finished_at)
    VALUES (${Bun.randomUUIDv7()}, ${j.kind ?? "claude"}, ${j.queue ?? "default"}, ${j.priority ?? 0}, ${status},
            ${db.sql.json((j.payload ?? { prompt: "hello", cwd: "/tmp" }) as never)},
            now() + ${(j.runInSeconds ?? 0) + " seconds"}::interval, ${attempts}, ${Math.max(3, attempts)},
            ${status === "running" ? (j.workerId ?? 999) : null}, ${db.sql.json((j.errors ?? []) as never)},
            ${j.errors?.at(-1)?.message ?? null}, ${j.result ? db.sql.json(j.result as never) : null},
            now() - ${(j.createdSecondsAgo ?? 0) + " seconds"}::interval,
            ${status === "queued" ? null : new Date(Date.now() - 5000)}, ${final ? new Date() : null})
    RETURNING id`;
  return row!.id as string;
}

export async function statusOf(db: TestDatabase, id: string): Promise<string | undefined> {
  const [row] = await db.sql`SELECT status FROM claude_jobs WHERE id = ${id}`;
  return row?.status as string | undefined;
}

/**
 * What a browser would run or load from this HTML, found by a real HTML parser
 * (Bun's HTMLRewriter): inline scripts, on* handler attributes, img/iframe/
 * object elements, javascript: URLs. Escaped job data yields none of these.
 */
export async function activeContent(html: string): Promise<string[]> {
  const found: string[] = [];
  await new HTMLRewriter()
    .on("*", {
      element(el) {
        if (el.tagName === "script" && !el.getAttribute("src")) found.push("inline <script>");
        if (["img", "iframe", "object", "embed"].includes(el.tagName)) found.push(`<${el.tagName}>`);
        for (const [name, value] of el.attributes) {
          if (name.startsWith("on")) found.push(`${el.tagName}[${name}]`);
          if (/^\s*javascript:/i.test(value)) found.push(`${el.tagName}[${name}=javascript:]`);
        }
      },
    })
    .transform(new Response(html))
    .text();
  return found;
}
