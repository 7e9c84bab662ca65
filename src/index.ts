// claude-jobs as a library: enqueue from any TypeScript program (also inside
// your own postgres.js transaction) and run workers with your own handlers.

export { connect, createSql, type Sql } from "./db/connect.ts";
export { migrate, checkSchema } from "./db/migrate.ts";
export { Queue, type EnqueueParams, type ListFilter, type Stats } from "./queue/client.ts";
export { Worker, type WorkerOptions, type StopOptions } from "./worker/worker.ts";
export { HandlerRegistry } from "./handlers/registry.ts";
export {
  PermanentJobError,
  RetryJobError,
  type Handler,
  type HandlerContext,
  type HandlerDefinition,
  type JobRecord,
  type JobStatus,
} from "./handlers/types.ts";
export { backoffMs } from "./worker/backoff.ts";
export * from "./errors.ts";
