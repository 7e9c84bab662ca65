// Splits a byte stream into lines without holding more than one line, and at
// most `maxLineBytes` of it: a longer line is handed on cut short, flagged
// `truncated` (it is whole in the log file). Shared by the handler's event
// reader and the `logs` command's printer, which differ only in what they do
// with a line.

export type LineHandler = (line: Buffer, truncated: boolean) => void;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private truncated = false;

  constructor(private readonly onLine: LineHandler, private readonly maxLineBytes: number) {}

  /** The chunk's bytes may be kept until the line ends: callers pass buffers they do not reuse. */
  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  /** Hands on a last line that had no newline. */
  end(): void {
    if (this.size > 0 || this.truncated) this.flush();
  }

  private take(piece: Buffer): void {
    const room = this.maxLineBytes - this.size;
    if (piece.length > room) this.truncated = true;
    const kept = piece.length > room ? piece.subarray(0, Math.max(0, room)) : piece;
    if (kept.length === 0) return;
    this.parts.push(kept);
    this.size += kept.length;
  }

  private flush(): void {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const truncated = this.truncated;
    this.parts = [];
    this.size = 0;
    this.truncated = false;
    this.onLine(line, truncated);
  }
}
