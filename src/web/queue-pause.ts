// Who pauses a queue from the dashboard or the API, as queue list and the
// queues page show it: where the request came from (the client address the
// slow-down uses, so a trusted proxy's X-Forwarded-For counts), never the
// session or the token, which are secrets.

import { validatePausedBy } from "../queue/queues.ts";
import { clientAddress, type TrustedProxies } from "./security.ts";

export function pausedBy(via: "dashboard" | "api", request: Request, trusted: TrustedProxies): string {
  try {
    return validatePausedBy("by", `${via}@${clientAddress(request, trusted)}`);
  } catch {
    return via; // an address that does not print (from a proxy's header): the channel alone
  }
}
