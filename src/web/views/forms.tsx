/** @jsxImportSource @kitajs/html */
// The enqueue form (prompt, cwd, queue, priority, delay, max attempts, model,
// unique key, after)
// and the login form. Values a user typed come back escaped after an error.

import { Head, Layout, Logo, PageHeader } from "./layout.tsx";
import { esc } from "./format.ts";

export interface EnqueueValues {
  prompt?: string;
  cwd?: string;
  queue?: string;
  priority?: string;
  delay?: string;
  max_attempts?: string;
  model?: string;
  unique_key?: string;
  after?: string;
}

function Field(p: { name: keyof EnqueueValues; label: string; hint?: string; values: EnqueueValues; type?: string; placeholder?: string; required?: boolean; wide?: boolean }) {
  return (
    <label class={`field${p.wide ? " wide" : ""}`}>
      <span>{esc(p.label)}{p.required ? <em class="req"> required</em> : ""}</span>
      <input name={p.name} type={p.type ?? "text"} value={p.values[p.name] ?? ""} placeholder={p.placeholder} required={p.required} />
      {p.hint ? <small class="muted">{esc(p.hint)}</small> : ""}
    </label>
  );
}

export function EnqueuePage(p: { values: EnqueueValues; error?: { field: string; message: string } | null; signedIn?: boolean }) {
  const v = p.values;
  return (
    <Layout title="New job" active="new" signedIn={p.signedIn}>
      <PageHeader title="New Claude job" subtitle="Runs `claude -p` headless in the directory you give, on the next free worker." />
      {p.error ? <div class="notice error" role="alert" data-error-field={p.error.field}>{esc(p.error.message)}</div> : ""}
      <form class="card form-grid" method="post" action="/jobs">
        <label class="field wide">
          <span>Prompt<em class="req"> required</em></span>
          <textarea name="prompt" rows="7" required placeholder="What should Claude do?">{esc(v.prompt ?? "")}</textarea>
        </label>
        <Field name="cwd" label="Working directory" values={v} required wide placeholder="/home/me/project" hint="Must exist on the worker's host; stored as an absolute path." />
        <Field name="queue" label="Queue" values={v} placeholder="default" />
        <Field name="priority" label="Priority" values={v} type="number" placeholder="0" hint="-1000 to 1000; higher runs first." />
        <Field name="delay" label="Delay" values={v} placeholder="e.g. 10m, 2h" hint="Empty: run as soon as possible." />
        <Field name="max_attempts" label="Max attempts" values={v} type="number" placeholder="3" />
        <Field name="model" label="Model" values={v} placeholder="default model" hint="An alias like sonnet or opus, or a model id." />
        <Field name="unique_key" label="Unique key" values={v} placeholder="e.g. nightly-review" hint="If a job with this key is waiting, queued or running, nothing is enqueued and you see that job." />
        <Field name="after" label="After" values={v} wide placeholder="job ids, separated by spaces or commas" hint="Runs once these jobs have finished; cancelled if one fails or is cancelled." />
        <div class="form-actions wide">
          <button class="button primary" type="submit">Enqueue job</button>
          <a class="button ghost" href="/jobs">Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

export function LoginPage(p: { next: string; failed?: boolean; message?: string }) {
  return (
    <html lang="en">
      <Head title="Sign in" />
      <body class="login-body">
        <form class="card login" method="post" action="/login">
          <div class="brand"><Logo /><span>claude-jobs</span></div>
          <p class="muted">
            This dashboard needs its access token. Open the login URL that <code>claude-jobs dashboard</code> printed
            when it started, or paste the token: the one in <code>~/.config/claude-jobs/token</code>, unless the
            dashboard was given its own (--token or CLAUDE_JOBS_TOKEN).
          </p>
          {p.failed ? <div class="notice error" role="alert">That token is not right.</div> : ""}
          {p.message ? <div class="notice error" role="alert">{esc(p.message)}</div> : ""}
          <input type="hidden" name="next" value={p.next} />
          <label class="field">
            <span>Token</span>
            <input type="password" name="token" autocomplete="current-password" required autofocus />
          </label>
          <button class="button primary" type="submit">Sign in</button>
        </form>
      </body>
    </html>
  );
}
