/**
 * Reads policy files (`*.cedar`, or folders of them) into individual policies, each with a
 * stable id — its `@id("…")` annotation, else `<file>#<index>` — and where it sits in its file,
 * so any later error can name file, line and column.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkParsePolicySet, type DetailedError, policySetTextToParts } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyLoadError } from './errors.js';

export interface PolicySource {
  id: string;
  text: string;
  file: string;
  /** Offset of the policy's text in its file. */
  offset: number;
  fileText: string;
}

/** Expands folders to their `*.cedar` files (sorted, so ids and hashes are stable). */
export function policyFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new PolicyLoadError('ERR_POLICY_READ', p, 0, 0, `cannot read: ${(err as Error).message}`);
    }
    if (isDir)
      for (const f of readdirSync(p)
        .filter((n) => n.endsWith('.cedar'))
        .sort())
        out.push(join(p, f));
    else out.push(p);
  }
  return out;
}

export function readPolicies(paths: string[]): PolicySource[] {
  const all: PolicySource[] = [];
  const seen = new Map<string, PolicySource>();
  for (const file of policyFiles(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PolicyLoadError('ERR_POLICY_READ', file, 0, 0, `cannot read: ${(err as Error).message}`);
    }
    for (const p of parseFile(file, text)) {
      const before = seen.get(p.id);
      if (before) {
        const at = lineColumn(text, p.offset);
        throw new PolicyLoadError('ERR_POLICY_DUPLICATE_ID', file, at.line, at.column, `policy id "${p.id}" is also used at ${where(before, 0)}`);
      }
      seen.set(p.id, p);
      all.push(p);
    }
  }
  return all;
}

export function parseFile(file: string, text: string): PolicySource[] {
  const checked = checkParsePolicySet({ staticPolicies: text });
  if (checked.type === 'failure') throw fromCedarError('ERR_POLICY_PARSE', file, text, 0, checked.errors[0]!);
  const parts = policySetTextToParts(text);
  if (parts.type === 'failure') throw fromCedarError('ERR_POLICY_PARSE', file, text, 0, parts.errors[0]!);
  if (parts.policy_templates.length > 0) throw new PolicyLoadError('ERR_POLICY_PARSE', file, 1, 1, 'policy templates are not supported; write static policies');
  const out: PolicySource[] = [];
  let cursor = 0;
  parts.policies.forEach((policy, index) => {
    const found = text.indexOf(policy, cursor);
    const offset = found >= 0 ? found : cursor;
    cursor = offset + policy.length;
    const annotated = /@id\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)/.exec(policy);
    out.push({ id: annotated ? annotated[1]! : `${basename(file)}#${index}`, text: policy, file, offset, fileText: text });
  });
  return out;
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

export function where(p: PolicySource, offsetInPolicy: number): string {
  const at = lineColumn(p.fileText, p.offset + offsetInPolicy);
  return `${p.file}:${at.line}:${at.column}`;
}

/** A Cedar error → file, line, column and a one-line reason (with Cedar's hint when it has one). */
export function fromCedarError(code: PolicyLoadError['code'], file: string, fileText: string, base: number, e: DetailedError): PolicyLoadError {
  const loc = e.sourceLocations?.[0];
  // Cedar reports UTF-8 byte offsets; the file is a JS string (an "–" in a comment is 3 bytes, 1 char).
  const chars = Buffer.from(fileText.slice(base), 'utf8')
    .subarray(0, loc?.start ?? 0)
    .toString('utf8').length;
  const at = lineColumn(fileText, base + chars);
  const label = loc?.label ? ` (${loc.label})` : '';
  const help = e.help ? `; ${e.help}` : '';
  return new PolicyLoadError(code, file, at.line, at.column, `${e.message}${label}${help}`);
}
