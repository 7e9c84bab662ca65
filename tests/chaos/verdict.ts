// A scenario's verdict: its figures, the targets some of them must meet, and
// notes (which job, which process, what the worker logged). Printed as one
// JSON line (for machines and for comparing runs) and a table (for people).

export interface Check {
  name: string;
  value: number | string;
  target: string;
  ok: boolean;
}

export class Verdict {
  readonly figures: Record<string, unknown> = {};
  readonly checks: Check[] = [];
  readonly notes: string[] = [];

  constructor(readonly scenario: string) {}

  figure(name: string, value: unknown): this {
    this.figures[name] = value;
    return this;
  }

  /** A figure that must equal `want` (0 unless said otherwise). */
  zero(name: string, value: number, want = 0): this {
    return this.check(name, value, `= ${want}`, value === want);
  }

  atMost(name: string, value: number, max: number, unit = ""): this {
    return this.check(name, value, `<= ${max}${unit}`, value <= max);
  }

  /** A yes/no condition. */
  require(name: string, ok: boolean, value: string = ok ? "yes" : "no"): this {
    return this.check(name, value, "yes", ok);
  }

  check(name: string, value: number | string, target: string, ok: boolean): this {
    this.checks.push({ name, value, target, ok });
    this.figures[name] = value;
    return this;
  }

  note(line: string): this {
    this.notes.push(line);
    return this;
  }

  get pass(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  get missed(): string[] {
    return this.checks.filter((c) => !c.ok).map((c) => c.name);
  }

  print(): void {
    console.log(JSON.stringify({ scenario: this.scenario, pass: this.pass, missed: this.missed, figures: this.figures }));
    const rows: [string, string, string, string][] = [];
    for (const [name, value] of Object.entries(this.figures)) {
      const c = this.checks.find((x) => x.name === name);
      rows.push([name, show(value), c ? c.target : "", c ? (c.ok ? "ok" : "MISSED") : ""]);
    }
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ["figure", "value", "target"][i]!.length));
    const line = (r: string[]) => `  ${r[0]!.padEnd(w[0]!)}  ${r[1]!.padStart(w[1]!)}  ${r[2]!.padEnd(w[2]!)}  ${r[3]}`;
    console.log(`\n== ${this.scenario}: ${this.pass ? "PASS" : `FAIL (${this.missed.join(", ")})`}`);
    console.log(line(["figure", "value", "target", ""]));
    for (const r of rows) console.log(line(r));
    if (this.notes.length) {
      console.log("  notes:");
      for (const n of this.notes.slice(0, 40)) console.log(`    - ${n}`);
      if (this.notes.length > 40) console.log(`    ... ${this.notes.length - 40} more`);
    }
    console.log("");
  }
}

function show(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
