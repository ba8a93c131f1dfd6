/**
 * Tool annotations (MCP behaviour hints). toolgate can key read-only policies off these, but
 * hints are the server's claim, not a guarantee — the demo policy names tools explicitly.
 */
import type { ToolAnnotations } from '@modelcontextprotocol/server';

export const READ: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
export const WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
export const UPSERT: ToolAnnotations = { ...WRITE, idempotentHint: true };
export const DELETE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
/** Reaches outside the CRM (e-mail), so effects cannot be undone. */
export const SEND: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: true };
