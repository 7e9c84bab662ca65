// Static assets, imported as text so `bun build --compile` puts them inside
// the executable: htmx, the stylesheet, the client script, the icon. No CDN:
// the dashboard works offline and behind a firewall.

import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import css from "./assets/style.css" with { type: "text" };
import client from "./assets/app.client.js" with { type: "text" };
import favicon from "./assets/favicon.svg" with { type: "text" };

const ASSETS: Record<string, { body: string; type: string }> = {
  "htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8" },
  "style.css": { body: css, type: "text/css; charset=utf-8" },
  "app.js": { body: client, type: "text/javascript; charset=utf-8" },
  "favicon.svg": { body: favicon, type: "image/svg+xml" },
};

/** The asset's response, or null for an unknown name. Versioned URLs let browsers cache for a day. */
export function assetResponse(name: string): Response | null {
  // Own names only: "__proto__" or "constructor" are not assets.
  if (!Object.hasOwn(ASSETS, name)) return null;
  const asset = ASSETS[name]!;
  return new Response(asset.body, {
    headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
  });
}
