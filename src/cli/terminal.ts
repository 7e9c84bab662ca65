// Text from jobs and agents, made safe to print on a terminal. Job data
// (prompts, payloads, errors, results) and agent output are written by
// whoever enqueued the job and by the agent, and a terminal obeys control
// sequences in what it prints: ESC ] 0 ; ... BEL sets the window title, OSC 52
// writes the clipboard, CSI sequences move the cursor and rewrite what is on
// screen (a hidden command), and some terminals answer queries by typing into
// their input. So human output shows every control character as a visible
// stand-in and never sends one: C0 controls as their Unicode control
// pictures (ESC as ␛, BEL as ␇, CR as ␍), DEL as ␡, C1 controls (U+0080 to
// U+009F, of which U+009B is a one-character CSI) and the bidirectional
// overrides (text that reads one way and runs another) as \xNN / \uNNNN.
// A newline and a tab stay what they are. JSON output stays exact JSON:
// JSON.stringify escapes C0 itself, and jsonText escapes the rest too (the
// same JSON value, only spelled with \u escapes).

import { redactUrl } from "../errors.ts";

/** C0 except \t and \n, DEL, C1, and the bidi controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI). */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** What `visible` prints for one unsafe character. */
function standIn(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ .. ␟: ␛ for ESC
  if (code === 0x7f) return "␡";
  if (code <= 0x9f) return `\\x${code.toString(16)}`;
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * The text with no control character left for a terminal to act on (see the
 * header). Newlines and tabs are kept; a CR right before a newline (Windows
 * line ends) is dropped, and any other CR is shown as ␍ (it would return the
 * cursor and let the rest of the line hide what came before it).
 */
export function visible(text: string): string {
  return text.replace(/\r+\n/g, "\n").replace(UNSAFE, standIn);
}

/** Characters JSON.stringify leaves raw that a terminal may act on: DEL, C1, bidi controls, and U+2028/9. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify, with the characters it leaves raw that a terminal may act
 * on spelled as \uNNNN (they can only be inside strings, so the JSON value is
 * the same): `--json` output parses to exactly the data, and printing it on a
 * terminal sends no control sequence.
 */
export function jsonText(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? "null").replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A line for stderr: the passwords of database URLs hidden (redactUrl), control characters shown (visible). */
export function diagnostic(text: string): string {
  return visible(redactUrl(text));
}
