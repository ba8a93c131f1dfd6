/**
 * Design note — why the CRM advertises more than it enforces.
 *
 * Each tool publishes a precise inputSchema (types, patterns, lengths, enums, ranges), written
 * in zod and converted to JSON Schema once. But the server then checks only what a careless
 * author would: that the arguments are an object and that the required keys are present.
 * Types, limits, formats and enums go unchecked, and `tenant` is trusted as given. So a call
 * that breaks the advertised schema reaches the handler and is processed (a 5,000-character
 * name is stored; an unknown tenant is provisioned). That is the gap toolgate's argument
 * validation and policy close, and the tests show it from both sides.
 *
 * SDK v2's McpServer would enforce a zod schema if handed one directly; handing it this
 * Standard Schema wrapper instead keeps the advertised JSON Schema and swaps the validator.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type * as z from 'zod';

type JsonSchemaConverter = StandardSchemaWithJSON['~standard']['jsonSchema'];
type ConverterOptions = Parameters<JsonSchemaConverter['input']>[0];

/**
 * Wraps a zod object schema: `tools/list` shows its full JSON Schema, `tools/call` checks only
 * presence of the required keys. The JSON Schema is computed once per target, at first use.
 *
 * @example
 *   const args = advertise(z.strictObject({ tenant: tenantField, contact_id: contactId }));
 *   server.registerTool('get_contact', { inputSchema: args }, async ({ tenant, contact_id }) => …);
 */
export function advertise<S extends z.ZodObject>(schema: S): StandardSchemaWithJSON<z.input<S>, z.input<S>> {
  const source = schema['~standard'].jsonSchema;
  const cache = new Map<string, Record<string, unknown>>();
  const memo = (io: 'input' | 'output') => (options: ConverterOptions) => {
    const key = `${io}:${options.target}`;
    let json = cache.get(key);
    if (json === undefined) {
      json = source[io](options);
      cache.set(key, json);
    }
    return json;
  };
  const required = Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);

  return {
    '~standard': {
      version: 1,
      vendor: 'toolgate-example-crm',
      jsonSchema: { input: memo('input'), output: memo('output') },
      validate(value: unknown) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          return { issues: [{ message: 'arguments must be an object' }] };
        }
        const args = value as Record<string, unknown>;
        const missing = required.filter((key) => args[key] === undefined || args[key] === null || args[key] === '');
        if (missing.length > 0) {
          return { issues: missing.map((key) => ({ message: `${key} is required`, path: [key] })) };
        }
        // Deliberately unchecked beyond presence: see the design note above.
        return { value: args as z.input<S> };
      },
    },
  };
}
