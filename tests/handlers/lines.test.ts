// The shared byte-line splitter: lines across chunks, empty lines, a last
// line without a newline, and a line over the limit handed on cut and flagged.

import { expect, test } from "bun:test";
import { LineSplitter } from "../../src/handlers/claude/lines.ts";

function split(chunks: string[], max = 1024) {
  const lines: [string, boolean][] = [];
  const splitter = new LineSplitter((line, truncated) => lines.push([line.toString(), truncated]), max);
  for (const c of chunks) splitter.push(Buffer.from(c));
  splitter.end();
  return lines;
}

test("joins a line split across chunks and keeps empty lines", () => {
  expect(split(["ab", "c\n\nd", "e\n"])).toEqual([["abc", false], ["", false], ["de", false]]);
});

test("hands on a last line that has no newline, and nothing for a stream that ends with one", () => {
  expect(split(["x\ny"])).toEqual([["x", false], ["y", false]]);
  expect(split(["x\n"])).toEqual([["x", false]]);
});

test("a line over the limit is cut to the limit and flagged; the next line is whole", () => {
  expect(split(["12345", "6789\nok\n"], 4)).toEqual([["1234", true], ["ok", false]]);
  expect(split(["123456"], 4)).toEqual([["1234", true]]);
});
