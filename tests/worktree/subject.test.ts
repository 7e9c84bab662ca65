// The subject of the commit claude-jobs makes of an agent's leftovers: the
// result's first non-empty line, one line, bounded, never empty.

import { expect, test } from "bun:test";
import { commitSubject } from "../../src/handlers/claude/worktree.ts";

const id = "01a23389-0841-7798-b337-9418cffb9310";

test("the first non-empty line of the result, without a markdown heading mark", () => {
  expect(commitSubject("\n\n## Fixed the flaky test\n\nDetails follow.", id)).toBe("Fixed the flaky test");
});

test("bounded at 72 characters, control characters made spaces", () => {
  const subject = commitSubject(`${"x".repeat(100)}\nsecond`, id);
  expect(subject).toHaveLength(72);
  expect(subject.endsWith("…")).toBe(true);
  expect(commitSubject("bell\u0007and\u001b[31mred", id)).toBe("bell and [31mred");
});

test("no result text: a subject naming the job", () => {
  expect(commitSubject(null, id)).toBe(`claude-jobs: changes of job ${id}`);
  expect(commitSubject("  \n\t\n", id)).toBe(`claude-jobs: changes of job ${id}`);
});
