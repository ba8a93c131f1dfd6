import type { ToolKind } from '../policy/kinds.js';

/** One tool of the live catalog as the suggestion sees it. */
export interface SuggestTool {
  /** Cedar action id, `crm/search_contacts`. */
  action: string;
  /** The name clients call, `crm__search_contacts`. */
  exposed: string;
  kind: ToolKind;
  inputSchema: unknown;
  /** The tool's Cedar argument attributes (schema.ts argumentShape). */
  argumentShape: Record<string, { type: string }>;
}
