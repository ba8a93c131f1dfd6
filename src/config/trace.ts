/**
 * The `trace:` section of the config file: which W3C baggage / `_meta` keys name the instruction
 * a call serves (recorded with it, carried in its per-call token, passed on upstream). Its schema
 * is imported by schema.ts, its resolution by resolve.ts; docs/config.md "Trace" describes it.
 */
import { z } from 'zod';

export interface TraceConfig {
  /** Baggage entries and `_meta` keys recorded as the call's instruction; no other baggage is passed on. */
  instructionKeys: readonly string[];
}

export const TRACE_DEFAULTS: TraceConfig = Object.freeze({ instructionKeys: Object.freeze(['instruction.id', 'task.id', 'job.id']) });

/** A W3C baggage key (an HTTP token), so the same name works in baggage and in `_meta`. */
const key = z.string({ error: 'expected a baggage key' }).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: "expected a baggage key (letters, digits and !#$%&'*+-.^_`|~)" });

export const traceSection = z.strictObject(
  {
    instruction_keys: z
      .array(key, { error: 'expected a list of baggage keys' })
      .max(32, { error: 'expected at most 32 instruction keys' })
      .refine((keys) => new Set(keys).size === keys.length, { error: 'expected each instruction key once' })
      .optional(),
  },
  { error: 'expected a mapping of trace settings (instruction_keys)' },
);

export function resolveTrace(section: z.output<typeof traceSection> | undefined): TraceConfig {
  return { instructionKeys: section?.instruction_keys ?? TRACE_DEFAULTS.instructionKeys };
}
