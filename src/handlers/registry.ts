// Handlers by kind. The built-in kind is `claude`; programs add their own.

import type { Handler, HandlerDefinition } from "./types.ts";
import { toDefinition } from "./types.ts";
import { claudeConcurrencyKey, claudeConcurrencyLimit, validateClaudePayload } from "./claude/payload.ts";

/** Validation rules of built-in kinds, for enqueueing processes that run no handler. */
export function builtinValidators(): [string, HandlerDefinition][] {
  return [["claude", {
    run: () => Promise.reject(new Error("validation-only definition")),
    validate: (payload) => ({ ...validateClaudePayload(payload) }),
    concurrencyKey: claudeConcurrencyKey,
    concurrencyLimit: (payload) => claudeConcurrencyLimit(payload),
  }]];
}

export class HandlerRegistry {
  private readonly byKind = new Map<string, HandlerDefinition>();

  register(kind: string, handler: Handler): this {
    this.byKind.set(kind, toDefinition(handler));
    return this;
  }

  get(kind: string): HandlerDefinition | undefined {
    return this.byKind.get(kind);
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  entries(): [string, HandlerDefinition][] {
    return [...this.byKind.entries()];
  }
}
