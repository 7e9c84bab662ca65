// /metrics as Prometheus reads it: the text parses as exposition format 0.0.4
// (a strict parser below: names, labels, escapes, TYPE before samples, one
// family's samples together, histogram buckets in order with +Inf = _count),
// and every counter and histogram series is monotonic for the life of the
// process: jobs end under a real worker, then time moves on (their ends
// pushed two hours back, as if the hour had passed), one is deleted, one is
// retried, more end; no sample of a counter or histogram goes down, and each
// end is counted exactly once.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { webFixture, type WebFixture } from "./helpers.ts";
import { WorkerPool } from "../helpers/engine.ts";
import { PermanentJobError } from "../../src/handlers/types.ts";
import { Metrics } from "../../src/web/metrics.ts";

// ---- A parser for the Prometheus text exposition format (0.0.4) ----

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { name: string; type: string; help?: string; samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y\"z"}` from position i; returns the labels and the position after `}`. */
function parseLabels(line: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // {
  while (line[i] !== "}") {
    const eq = line.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without =`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = line[j + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`${where}: bad escape \\${e}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ",") i++;
    else if (line[i] !== "}") throw new Error(`${where}: expected , or } after a label`);
  }
  return [labels, i + 1];
}

/** Parses the whole text, or throws naming the line and what is wrong. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the text must end with a newline");
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const familyOf = (sample: string) => {
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      const base = sample.endsWith(suffix) ? sample.slice(0, -suffix.length) : null;
      if (base && families.get(base)?.type === "histogram") return base;
    }
    return sample;
  };
  text.slice(0, -1).split("\n").forEach((line, n) => {
    const where = `line ${n + 1} ${JSON.stringify(line)}`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (closed.has(name)) throw new Error(`${where}: ${name} appears again after other families`);
      let f = families.get(name);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (f?.type) throw new Error(`${where}: a second TYPE for ${name}`);
        if (f && f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        if (!f) families.set(name, (f = { name, type: rest, samples: [] }));
        else f.type = rest;
      } else {
        if (f?.help !== undefined) throw new Error(`${where}: a second HELP for ${name}`);
        if (!f) families.set(name, (f = { name, type: "", samples: [] }));
        f.help = rest;
      }
      if (current !== null && current !== name) closed.add(current);
      current = name;
      return;
    }
    if (line.trim() === "") throw new Error(`${where}: empty line`);
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: no metric name`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === "{") [labels, i] = parseLabels(line, i, where);
    if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(" ");
    if (parts.length > 2 || (parts.length === 2 && !/^-?\d+$/.test(parts[1]!))) throw new Error(`${where}: trailing text`);
    const value = parseValue(parts[0]!, where);
    const family = familyOf(name);
    if (closed.has(family)) throw new Error(`${where}: ${family}'s samples are not together`);
    if (current !== null && current !== family) closed.add(current);
    current = family;
    let f = families.get(family);
    if (!f) families.set(family, (f = { name: family, type: "untyped", samples: [] }));
    if (!f.type) f.type = "untyped";
    const series = name + JSON.stringify(Object.entries(labels).sort());
    if (seenSeries.has(series)) throw new Error(`${where}: the same series twice`);
    seenSeries.add(series);
    if (f.type === "histogram" && name === family) throw new Error(`${where}: a histogram sample without _bucket, _sum or _count`);
    if (f.type === "counter" && value < 0) throw new Error(`${where}: a negative counter`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum) throw new Error(`${f.name}${key}: no _count or _sum`);
    const les = buckets.map((b) => {
      if (b.labels.le === undefined) throw new Error(`${f.name}${key}: a bucket without le`);
      return parseValue(b.labels.le, `${f.name}${key} le`);
    });
    if (les.at(-1) !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket last`);
    for (let i = 1; i < les.length; i++) {
      if (!(les[i]! > les[i - 1]!)) throw new Error(`${f.name}${key}: le not increasing`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${f.name}${key}: bucket counts not cumulative`);
    }
    if (buckets.at(-1)!.value !== count.value) throw new Error(`${f.name}${key}: +Inf bucket != _count`);
  }
}

/** Every sample of a counter or histogram, by series. */
function cumulative(families: Map<string, Family>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families.values()) {
    if (f.type !== "counter" && f.type !== "histogram") continue;
    for (const s of f.samples) out.set(s.name + JSON.stringify(Object.entries(s.labels).sort()), s.value);
  }
  return out;
}

/** What went down (or vanished) from one scrape to the next. */
function decreases(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [series, v] of before) {
    const now = after.get(series);
    if (now === undefined) out.push(`${series} vanished (was ${v})`);
    else if (now < v) out.push(`${series} went from ${v} to ${now}`);
  }
  return out;
}

// ---- The tests ----

describe("the exposition-format parser", () => {
  test("accepts well-formed text and rejects what Prometheus would refuse", () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n';
    expect(parseExposition(good).get("a_total")!.samples[0]!.labels.x).toBe('q"\\\n');
    for (const bad of [
      "a 1", "a{x=\"1\"} one\n", "a{x=1} 1\n", "a{x=\"\\t\"} 1\n", "1a 1\n", "a 1\na 1\n",
      "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"y\"} 2\n", "# TYPE a gauge\n# TYPE a counter\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
    ]) expect(() => parseExposition(bad)).toThrow();
  });
});

let f: WebFixture;
const pool = new WorkerPool();
beforeAll(async () => { f = await webFixture(); });
afterEach(() => pool.stopAll());
afterAll(async () => { await f.db.drop(); });

const handlers = {
  quick: async () => ({ ok: true }),
  slow: async () => { await Bun.sleep(1100); return { ok: true }; },
  boom: async () => { throw new PermanentJobError("boom"); },
};

async function waitEnded(queue: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [row] = await f.db.sql`SELECT count(*)::int AS n FROM claude_jobs WHERE queue = ${queue} AND finished_at IS NOT NULL`;
    if (row!.n >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${row!.n} of ${n} jobs in ${queue} ended`);
    await Bun.sleep(50);
  }
}

/** Prometheus' own checker, where it is installed (Debian: apt-get install prometheus); the parser above runs everywhere. */
const PROMTOOL = Bun.which("promtool");
async function promtoolCheck(text: string): Promise<void> {
  if (!PROMTOOL) return;
  const p = Bun.spawn([PROMTOOL, "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  expect({ code, output: (out + err).trim() }).toEqual({ code: 0, output: "" });
}

const scrape = async () => {
  const r = await f.request("GET", "/metrics");
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await r.text();
  await promtoolCheck(text);
  return parseExposition(text);
};
const count = (m: Map<string, Family>, queue: string, status: string) =>
  m.get("claude_jobs_job_duration_seconds")?.samples.find((s) => s.name.endsWith("_count") && s.labels.queue === queue && s.labels.status === status)?.value ?? 0;

test("GET /metrics: counters and histograms never go down as jobs end, age, are deleted or retried", async () => {
  await pool.start({ sql: f.db.sql, queues: ["mon"], handlers });
  const first = await f.queue.enqueueMany([
    ...Array.from({ length: 4 }, () => ({ kind: "quick", queue: "mon", payload: {} })),
    { kind: "slow", queue: "mon", payload: {} },
    { kind: "boom", queue: "mon", payload: {}, maxAttempts: 1 },
    { kind: "boom", queue: "mon", payload: {}, maxAttempts: 1 },
  ]);
  await waitEnded("mon", 7);
  const one = await scrape();
  expect(count(one, "mon", "finished")).toBe(5);
  expect(count(one, "mon", "failed")).toBe(2);
  const bucket = (m: Map<string, Family>, le: string) =>
    m.get("claude_jobs_job_duration_seconds")!.samples.find((s) => s.name.endsWith("_bucket") && s.labels.status === "finished" && s.labels.le === le)!.value;
  expect(bucket(one, "1")).toBe(4); // the slow one took over a second
  expect(bucket(one, "10")).toBe(5);

  // Time moves on: these ends are now two hours old (past any "last hour").
  await f.db.sql`UPDATE claude_jobs SET started_at = started_at - interval '2 hours', finished_at = finished_at - interval '2 hours' WHERE queue = 'mon'`;
  // Retention deletes one, a person retries a failed one (it fails again), and more jobs end.
  await f.queue.delete(first[0]!);
  const failed = (await f.db.sql`SELECT id FROM claude_jobs WHERE queue = 'mon' AND status = 'failed' LIMIT 1`)[0]!.id as string;
  await f.queue.retry(failed);
  await f.queue.enqueueMany(Array.from({ length: 3 }, () => ({ kind: "quick", queue: "mon", payload: {} })));
  await waitEnded("mon", 9);
  await Bun.sleep(100);
  const two = await scrape();
  expect(decreases(cumulative(one), cumulative(two))).toEqual([]);
  // Each end once: 5 + 3 finished; 2 failed, and the retried one failed again.
  expect(count(two, "mon", "finished")).toBe(8);
  expect(count(two, "mon", "failed")).toBe(3);
  // The gauges still say what the table holds now.
  expect(two.get("claude_jobs_jobs")!.samples.find((s) => s.labels.queue === "mon" && s.labels.status === "finished")!.value).toBe(7);

  const three = await scrape();
  expect(decreases(cumulative(two), cumulative(three))).toEqual([]);
  expect(count(three, "mon", "finished")).toBe(8);
}, 40_000);

test("ends older than the settle window are counted in aggregate, exactly once, across many scrapes", async () => {
  const sinceUs = String(BigInt(Date.now()) * 1000n);
  const metrics = new Metrics(f.queue, f.db.sql, { sinceUs, settleMs: 150 });
  await pool.start({ sql: f.db.sql, queues: ["agg"], handlers, concurrency: 4 });
  let enqueued = 0;
  let previous = cumulative(parseExposition(await metrics.render()));
  for (let round = 0; round < 6; round++) {
    await f.queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ kind: i === 0 ? "boom" : "quick", queue: "agg", payload: {}, maxAttempts: 1 })));
    enqueued += 5;
    // Scrapes while jobs end, concurrent ones too, some inside the settle window and some after it.
    const texts = await Promise.all([metrics.render(), metrics.render()]);
    for (const t of texts) {
      const now = cumulative(parseExposition(t));
      expect(decreases(previous, now)).toEqual([]);
      previous = now;
    }
    await Bun.sleep(round % 2 === 0 ? 40 : 220);
  }
  await waitEnded("agg", enqueued);
  await Bun.sleep(300); // past the settle window: the last ends go through the aggregate too
  const last = parseExposition(await metrics.render());
  expect(decreases(previous, cumulative(last))).toEqual([]);
  expect(count(last, "agg", "finished") + count(last, "agg", "failed")).toBe(enqueued);
  expect(count(last, "agg", "failed")).toBe(6);
}, 40_000);
