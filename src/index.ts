// claude-jobs as a library: enqueue from any TypeScript program (also inside
// your own postgres.js transaction) and run workers with your own handlers.
// It runs on Bun (SQL and scripts are imported as text).

// The modules imported as text, declared for a program that type-checks
// claude-jobs from its node_modules: its compilation does not include our
// tsconfig, so without these it cannot resolve the .sql and .sh imports.
/// <reference path="./sql-modules.d.ts" />
/// <reference path="./proc/text-modules.d.ts" />

export { connect, createSql, type Sql } from "./db/connect.ts";
export { migrate, checkSchema } from "./db/migrate.ts";
export { Queue, type EnqueueOutcome, type EnqueueParams, type ListFilter, type Stats } from "./queue/client.ts";
export { Worker, type WorkerOptions, type StopOptions } from "./worker/worker.ts";
export { Queues, type QueueInfo, type QueueChange } from "./queue/queues.ts";
export { Budgets, type QueueBudget, type BudgetChange, type SpendRow, type SpendTotal } from "./queue/budgets.ts";
export { builtinMaintenance, type MaintenanceTask } from "./worker/maintenance.ts";
export {
  cleanup, retentionTask, DEFAULT_RETENTION, type RetentionPolicy, type CleanupOptions, type CleanupReport,
} from "./worker/retention.ts";
export {
  Schedules, type ScheduleInfo, type ScheduleParams, type SchedulesOptions,
} from "./schedule/schedules.ts";
export { schedulerTask, enqueueDueSlots, type ScheduleTick } from "./schedule/scheduler.ts";
export { Webhooks, submitWithWebhook, recordWebhookEvent, type WebhookInput, type QueueWebhook, type ShownDelivery } from "./notify/webhooks.ts";
export { webhookTask, deliverDue, type WebhookTaskOptions } from "./notify/deliver.ts";
export { verifySignature, signatureHeader } from "./notify/sign.ts";
export type { EventBody } from "./notify/event.ts";
export { HandlerRegistry } from "./handlers/registry.ts";
export {
  ParkJobError,
  PermanentJobError,
  RetryJobError,
  type AccountLimitNotice,
  type Handler,
  type HandlerContext,
  type HandlerDefinition,
  type JobRecord,
  type JobStatus,
} from "./handlers/types.ts";
export { backoffMs } from "./worker/backoff.ts";
export * from "./errors.ts";
