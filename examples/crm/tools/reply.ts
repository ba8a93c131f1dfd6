/** How CRM tools answer: JSON text for any client plus the same object as structuredContent. */
import type { CallToolResult } from '@modelcontextprotocol/server';

export function ok(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
}

export function failure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

export function notFound(what: string, id: unknown, tenant: unknown): CallToolResult {
  return failure(`${what} ${String(id)} not found in tenant ${String(tenant)}`);
}

/** Case-insensitive substring match over the given fields; no query matches everything. */
export function matches(record: object, text: string | undefined, fields: readonly string[]): boolean {
  if (text === undefined || text === '') return true;
  const needle = text.toLowerCase();
  const values = record as Record<string, unknown>;
  return fields.some((f) =>
    String(values[f] ?? '')
      .toLowerCase()
      .includes(needle),
  );
}

/** One page of a result list, with the offset of the next page when there is one. */
export function page<R>(all: R[], limit: number | undefined, offset: number | undefined): { items: R[]; total: number; next_offset?: number } {
  const size = limit ?? 20;
  const start = offset ?? 0;
  const items = all.slice(start, start + size);
  const next = start + items.length;
  return next < all.length ? { items, total: all.length, next_offset: next } : { items, total: all.length };
}
