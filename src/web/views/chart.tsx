/** @jsxImportSource @kitajs/html */
// The throughput chart: jobs finished and failed per minute over the last
// hour, drawn on the server as an inline SVG of stacked bars (no script, no
// library). Colours come from CSS classes, so it follows the theme.

import type { MinuteCounts } from "../../db/dashboard.ts";
import { esc } from "./format.ts";

const W = 720;
const H = 160;
const PAD = { top: 10, right: 8, bottom: 22, left: 34 };

/** A round axis maximum at or above `max` (1, 2, 5, 10, 20, 50, ...). */
export function niceMax(max: number): number {
  if (max <= 4) return 4;
  const pow = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * pow >= max) return step * pow;
  return 10 * pow;
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);

export function ThroughputChart({ minutes }: { minutes: MinuteCounts[] }) {
  const top = niceMax(Math.max(0, ...minutes.map((m) => m.finished + m.failed)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, minutes.length);
  const barW = Math.max(1, slot - 2);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const finished = minutes.reduce((s, m) => s + m.finished, 0);
  const failed = minutes.reduce((s, m) => s + m.failed, 0);
  const label = `Jobs per minute over the last hour: ${finished} finished, ${failed} failed`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        {[0, 0.5, 1].map((f) => (
          <g>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(top * f)} y2={y(top * f)} />
            <text class="axis" x={PAD.left - 6} y={y(top * f) + 4} text-anchor="end">{String(top * f)}</text>
          </g>
        ))}
        {minutes.map((m, i) => {
          const x = PAD.left + i * slot + 1;
          const title = `${hhmm(m.minute)} UTC: ${m.finished} finished, ${m.failed} failed`;
          return (
            <g>
              <title>{esc(title)}</title>
              <rect class="bar-ok" x={x} width={barW} y={y(m.finished)} height={y(0) - y(m.finished)} />
              <rect class="bar-fail" x={x} width={barW} y={y(m.finished + m.failed)} height={y(0) - y(m.failed)} />
              {i % 15 === 0 || i === minutes.length - 1 ? (
                <text class="axis" x={x + barW / 2} y={H - 6} text-anchor="middle">{esc(hhmm(m.minute))}</text>
              ) : ""}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="legend ok">{String(finished)} finished</span>
        <span class="legend fail">{String(failed)} failed</span>
        <span class="muted">last 60 minutes, per minute (UTC)</span>
      </figcaption>
    </figure>
  );
}
