/** @jsxImportSource @kitajs/html */
// The page shell: head (CSS, htmx and the client script from /assets, htmx
// configured by a meta tag so the CSP needs no inline script), the top bar
// and navigation. Every page renders inside it.

import type { Children } from "@kitajs/html";
import { VERSION } from "../../version.ts";
import { esc } from "./format.ts";

export type NavItem = "overview" | "jobs" | "queues" | "workers" | "schedules" | "new" | "none";

const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, selfRequestsOnly: true,
  historyCacheSize: 0, defaultSwapStyle: "outerHTML",
});

const NAV: [NavItem, string, string][] = [
  ["overview", "/", "Overview"],
  ["jobs", "/jobs", "Jobs"],
  ["queues", "/queues", "Queues"],
  ["schedules", "/schedules", "Schedules"],
  ["workers", "/workers", "Workers"],
];

export interface LayoutProps {
  title: string;
  active: NavItem;
  /** Shows the sign-out button: the dashboard has a token. */
  signedIn?: boolean;
  children?: Children;
}

/** The document head every page shares; `scripts` adds htmx and the client script. */
export function Head(p: { title: string; scripts?: boolean }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      {p.scripts ? <meta name="htmx-config" content={HTMX_CONFIG} /> : ""}
      <title>{esc(p.title)} · claude-jobs</title>
      <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      <link rel="stylesheet" href={`/assets/style.css?v=${VERSION}`} />
      {p.scripts ? <script src={`/assets/htmx.min.js?v=${VERSION}`} defer></script> : ""}
      {p.scripts ? <script src={`/assets/app.js?v=${VERSION}`} defer></script> : ""}
    </head>
  );
}

export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <Head title={p.title} scripts />
      <body>
        <header class="topbar">
          <a class="brand" href="/">
            <Logo />
            <span>claude-jobs</span>
          </a>
          <nav class="nav">
            {NAV.map(([key, href, label]) => (
              <a href={href} class={p.active === key ? "active" : undefined}>{label}</a>
            ))}
          </nav>
          <div class="topbar-end">
            <a class={`button primary small${p.active === "new" ? " active" : ""}`} href="/jobs/new">+ New job</a>
            {p.signedIn ? (
              <form method="post" action="/logout" class="inline">
                <button class="button ghost small" type="submit">Sign out</button>
              </form>
            ) : ""}
          </div>
        </header>
        <main class="container">{p.children}</main>
        <footer class="footer">claude-jobs {esc(VERSION)}</footer>
        <div id="toasts" aria-live="polite"></div>
      </body>
    </html>
  );
}

export function Logo() {
  return (
    <svg class="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <rect x="2" y="3" width="20" height="5" rx="1.5" class="logo-a" />
      <rect x="2" y="10" width="14" height="5" rx="1.5" class="logo-b" />
      <rect x="2" y="17" width="8" height="4" rx="1.5" class="logo-c" />
    </svg>
  );
}

/** A status pill: the class picks the colour, the text is the status. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge s-${esc(status)}`}>{esc(status)}</span>;
}

export function PageHeader(p: { title: string; subtitle?: string; children?: Children }) {
  return (
    <div class="page-header">
      <div>
        <h1>{esc(p.title)}</h1>
        {p.subtitle ? <p class="muted">{esc(p.subtitle)}</p> : ""}
      </div>
      {p.children ? <div class="page-actions">{p.children}</div> : ""}
    </div>
  );
}

/** Renders a message page (errors, not found) inside the layout. */
export function MessagePage(p: { title: string; message: string; status: number; signedIn?: boolean }) {
  return (
    <Layout title={p.title} active="none" signedIn={p.signedIn}>
      <div class="card message">
        <p class="eyebrow">{String(p.status)}</p>
        <h1>{esc(p.title)}</h1>
        <p>{esc(p.message)}</p>
        <p><a class="button" href="/">Back to the overview</a></p>
      </div>
    </Layout>
  );
}
