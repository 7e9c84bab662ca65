// The interactive setup wizard (@clack/prompts). Placeholder until the wizard issue lands:
// it only builds the same options the commands take, then runs them.
import type { CliContext } from "./context.ts";
import { mainHelp } from "./main.ts";

export async function runWizard(ctx: CliContext): Promise<number> {
  ctx.out(mainHelp());
  return 0;
}
