/**
 * Argument validation against the tool's own inputSchema, before policy: a careless upstream
 * that checks nothing (examples/crm) is protected, and policies reading `context.arguments` see
 * values of the declared types. Each schema is compiled once per tool definition (ajv compile is
 * ~ms; validate is µs) and the compiled function is reused until the definition changes.
 *
 * Stricter than the schema in one way: an object schema that lists `properties` but says nothing
 * about `additionalProperties` refuses unknown properties, since an argument the tool did not
 * declare is one nobody reviewed.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as formatsModule from 'ajv-formats';
import type { ArgumentCheck, ArgumentProblem } from '../pipeline/stages.js';

type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin =
  ((formatsModule as unknown as { default: FormatsPlugin | { default: FormatsPlugin } }).default as { default?: FormatsPlugin }).default ??
  (formatsModule as unknown as { default: FormatsPlugin }).default;

export class ArgumentValidator implements ArgumentCheck {
  private readonly ajv: Ajv;
  private readonly compiled = new WeakMap<object, ValidateFunction | Error>();

  constructor(private readonly maxBytes: number) {
    this.ajv = new Ajv({ allErrors: false, strict: false, validateFormats: true });
    addFormats(this.ajv);
  }

  /** Checks `args` against `inputSchema` (the object as listed: compiled once per definition). */
  check(inputSchema: unknown, args: unknown): ArgumentProblem | undefined {
    if (args === null || typeof args !== 'object' || Array.isArray(args)) return { field: '', message: 'arguments must be an object' };
    const size = Buffer.byteLength(JSON.stringify(args));
    if (size > this.maxBytes) return { field: '', message: `arguments are ${size} bytes; the limit is ${this.maxBytes}` };
    if (!inputSchema || typeof inputSchema !== 'object') return undefined;
    let validate = this.compiled.get(inputSchema);
    if (!validate) {
      try {
        validate = this.ajv.compile(closed(inputSchema as Record<string, unknown>));
      } catch (err) {
        validate = err as Error;
      }
      this.compiled.set(inputSchema, validate);
    }
    // A schema ajv cannot compile is the upstream's bug; refusing every call would hide it less
    // well than a clear error, so the call is refused with the reason.
    if (validate instanceof Error) return { field: '', message: `the tool's inputSchema cannot be used: ${validate.message}` };
    if (validate(args)) return undefined;
    return describe(validate.errors?.[0]);
  }
}

function describe(e: ErrorObject | undefined): ArgumentProblem {
  if (!e) return { field: '', message: 'arguments do not match the tool schema' };
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return { field: `${e.instancePath}/${String(p.additionalProperty)}`, message: 'is not a declared argument' };
  if (e.keyword === 'required') return { field: `${e.instancePath}/${String(p.missingProperty)}`, message: 'is required' };
  return { field: e.instancePath, message: e.message ?? e.keyword };
}

/** A copy of the schema in which objects with declared properties refuse undeclared ones. */
function closed(schema: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema') continue; // drafts differ in name only for what tool schemas use
    if (k === 'properties' && v && typeof v === 'object') {
      copy[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([n, s]) => [n, s && typeof s === 'object' ? closed(s as Record<string, unknown>) : s]));
    } else if (k === 'items' && v && typeof v === 'object' && !Array.isArray(v)) {
      copy[k] = closed(v as Record<string, unknown>);
    } else copy[k] = v;
  }
  if (copy.properties && !('additionalProperties' in copy) && !('patternProperties' in copy) && !('allOf' in copy) && !('anyOf' in copy) && !('oneOf' in copy)) {
    copy.additionalProperties = false;
  }
  return copy;
}
