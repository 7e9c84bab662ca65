// Reading the process table from /proc: who is alive (a zombie is not: this
// machine's PID 1 never reaps orphans, so a killed grandchild stays a zombie
// and kill(pid, 0) keeps succeeding), a process's descendants and group, and
// every process of this run (they carry CHAOS_RUN=<run folder> in their
// environment, which children inherit), so cleanup can end exactly the
// processes we started, by pid.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  /** Clock ticks after boot: with the pid, names one process even if the pid is reused. */
  startTime: number;
  cmdline: string;
}

export function procInfo(pid: number): ProcInfo | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt ... starttime(22)"; comm may hold spaces and parens.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    /* exited meanwhile */
  }
  return { pid, ppid: Number(f[1]), pgid: Number(f[2]), state: f[0]!, startTime: Number(f[19]), cmdline };
}

export function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

const dead = (state: string) => state === "Z" || state === "X";

/** Alive and not a zombie; with `startTime`, only if it is still that same process. */
export function isAlive(pid: number, startTime?: number): boolean {
  const info = procInfo(pid);
  if (!info || dead(info.state)) return false;
  return startTime === undefined || info.startTime === startTime;
}

/** Every live descendant of `pid` (children, their children, ...). */
export function descendants(pid: number, procs = allProcs()): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const walk = (parent: number) => {
    for (const child of byParent.get(parent) ?? []) {
      if (!dead(child.state)) out.push(child);
      walk(child.pid);
    }
  };
  walk(pid);
  return out;
}

/** Live members of a process group. */
export function groupMembers(pgid: number, procs = allProcs()): ProcInfo[] {
  return procs.filter((p) => p.pgid === pgid && !dead(p.state));
}

/**
 * Live processes whose environment holds CHAOS_RUN=<marker>, or with `under`
 * also CHAOS_RUN=<marker>/... (a run's marker is its folder, a scenario's
 * is its subfolder).
 */
export function runProcesses(marker: string, options: { under?: boolean } = {}): ProcInfo[] {
  const exact = `CHAOS_RUN=${marker}`;
  const out: ProcInfo[] = [];
  for (const p of allProcs()) {
    if (p.pid === process.pid || dead(p.state)) continue;
    try {
      const vars = readFileSync(`/proc/${p.pid}/environ`, "utf8").split("\0");
      if (vars.some((v) => v === exact || (options.under === true && v.startsWith(`${exact}/`)))) out.push(p);
    } catch {
      /* exited, or not ours to read */
    }
  }
  return out;
}

/** VmRSS of a process in KiB (null once it is gone). */
export function rssKb(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    return line ? Number(line.split(/\s+/)[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The local TCP ports of a process's sockets: with pg_stat_activity's
 * client_port they name its backends whatever application_name each
 * connection set (a library may name its lock session differently).
 */
export function tcpPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..."
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}
