// Parsing what `git diff` prints, for the diff view: the file list of
// `--raw --numstat -z` (NUL-separated, so any file name reads back exactly)
// and the text patch, split into one section per file and into hunks. Pure:
// no I/O. File names and contents are data: nothing here interprets them,
// and a section is matched to its file by comparing its `diff --git` line
// with the one git prints for that file's names (gitQuote), never by reading
// a name out of the patch text.

export type FileStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "type-changed";

const STATUS: Record<string, FileStatus> = { A: "added", M: "modified", D: "deleted", R: "renamed", C: "copied", T: "type-changed" };

/** One changed file, as the raw and numstat formats give it. */
export interface FileEntry {
  status: FileStatus;
  /** The file's path after the change (for a deletion: the deleted path). */
  path: string;
  /** The path before, for renames and copies; null otherwise. */
  oldPath: string | null;
  /** Rename/copy similarity in percent. */
  similarity: number | null;
  oldMode: string;
  newMode: string;
  binary: boolean;
  insertions: number;
  deletions: number;
}

/** `git diff -z --raw --numstat` output: raw entries, then numstat entries, in the same order. */
export function parseRawNumstat(bytes: Uint8Array): FileEntry[] {
  const fields = new TextDecoder().decode(bytes).split("\0");
  const entries: FileEntry[] = [];
  let i = 0;
  while (i < fields.length && fields[i]!.startsWith(":")) {
    // ":100644 100644 <sha> <sha> R087"
    const [oldMode, newMode, , , code] = fields[i]!.slice(1).split(" ");
    const letter = (code ?? "").charAt(0);
    const status = STATUS[letter];
    if (!status || oldMode === undefined || newMode === undefined) throw new Error(`unexpected raw diff entry ${JSON.stringify(fields[i])}`);
    const two = letter === "R" || letter === "C";
    const first = fields[i + 1] ?? "";
    entries.push({
      status, path: two ? (fields[i + 2] ?? "") : first, oldPath: two ? first : null,
      similarity: two ? Number(code!.slice(1)) : null, oldMode, newMode, binary: false, insertions: 0, deletions: 0,
    });
    i += two ? 3 : 2;
  }
  // numstat: "<add>\t<del>\t<path>" or, for a rename, "<add>\t<del>\t" then the two paths as fields of their own.
  for (const entry of entries) {
    const line = fields[i] ?? "";
    const [add, del, path] = line.split("\t");
    if (add === undefined || del === undefined) break;
    entry.binary = add === "-" && del === "-";
    entry.insertions = entry.binary ? 0 : Number(add);
    entry.deletions = entry.binary ? 0 : Number(del);
    i += path === "" ? 3 : 1;
  }
  return entries;
}

/** C escapes git uses in quoted names. */
const C_ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\" };

/**
 * A name as git prints it in a `diff --git` line with core.quotepath=off:
 * as is, unless it holds a quote, a backslash or a control character; then
 * in double quotes with C escapes (octal for the controls that have none).
 */
export function gitQuote(name: string): string {
  if (!/["\\\x00-\x1f\x7f]/.test(name)) return name;
  let out = '"';
  for (const c of name) {
    const code = c.charCodeAt(0);
    out += C_ESCAPES[c] ?? (code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, "0")}` : c);
  }
  return out + '"';
}

/** The `diff --git` line git prints for a file. */
export function sectionHeader(entry: FileEntry): string {
  const before = entry.oldPath ?? entry.path;
  return `diff --git ${gitQuote(`a/${before}`)} ${gitQuote(`b/${entry.path}`)}`;
}

export interface Section {
  header: string;
  /** The section's lines after its `diff --git` line. */
  lines: string[];
  /** Its size in characters (what the per-file bound counts). */
  size: number;
}

/** The patch text cut into sections at its `diff --git` lines (content lines always start with ' ', '+', '-' or '\'). */
export function splitPatch(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("diff --git ")) {
      current = { header: line, lines: [], size: line.length + 1 };
      sections.push(current);
    } else if (current) {
      current.lines.push(line);
      current.size += line.length + 1;
    }
  }
  return sections;
}

export type LineKind = "context" | "add" | "del" | "note";

export interface DiffLine {
  kind: LineKind;
  /** The line without its +, - or space (a note: the whole "\ No newline at end of file"). */
  text: string;
  /** Line numbers in the old and new file (null where the line is not in that side). */
  oldLine: number | null;
  newLine: number | null;
}

export interface Hunk {
  /** The `@@ -a,b +c,d @@` part. */
  range: string;
  /** What git prints after it: the enclosing function or heading, from the file (data). */
  context: string;
  lines: DiffLine[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/s;

/** The hunks of one section; its header lines (modes, index, ---/+++) are skipped. */
export function parseHunks(lines: string[]): Hunk[] {
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < lines.length && !lines[i]!.startsWith("@@ ")) i++;
  while (i < lines.length) {
    const m = HUNK.exec(lines[i]!);
    if (!m) {
      i++;
      continue;
    }
    const hunk: Hunk = { range: lines[i]!.slice(0, lines[i]!.length - m[5]!.length).trimEnd(), context: m[5]!, lines: [] };
    let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
    let newLeft = m[4] === undefined ? 1 : Number(m[4]);
    let oldNo = Number(m[1]);
    let newNo = Number(m[3]);
    i++;
    // The counts in the hunk header say where it ends; a note may follow its last line.
    while (i < lines.length && (oldLeft > 0 || newLeft > 0 || lines[i]!.startsWith("\\"))) {
      const line = lines[i]!;
      const mark = line.charAt(0);
      if (mark === "\\") hunk.lines.push({ kind: "note", text: line, oldLine: null, newLine: null });
      else if (mark === "+") {
        hunk.lines.push({ kind: "add", text: line.slice(1), oldLine: null, newLine: newNo++ });
        newLeft--;
      } else if (mark === "-") {
        hunk.lines.push({ kind: "del", text: line.slice(1), oldLine: oldNo++, newLine: null });
        oldLeft--;
      } else if (mark === " " || line === "") {
        hunk.lines.push({ kind: "context", text: line.slice(1), oldLine: oldNo++, newLine: newNo++ });
        oldLeft--;
        newLeft--;
      } else break;
      i++;
    }
    hunks.push(hunk);
  }
  return hunks;
}
