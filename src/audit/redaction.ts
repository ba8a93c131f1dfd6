import { createHmac, randomBytes } from 'node:crypto';
import { canonicalBytes, sha256Hex } from './hashing.js';
import { isSecretName, secretKind, withoutSecrets } from './secrets.js';

export type RedactionMode = 'keep' | 'hmac' | 'commit' | 'drop';

export interface RedactionRules {
  /** For argument fields no rule names. */
  default: RedactionMode;
  /** Drop values that look like credentials, whatever their rule says. */
  detectSecrets: boolean;
  /** Tool name as the client sees it (or "*": every tool) → dotted argument path (`*` = any key or index) → mode. */
  tools: Record<string, Record<string, RedactionMode>>;
}

/**
 * A committed value: the record carries only `sha256(salt ‖ canonical(value))`; the value and
 * salt are stored apart (the payloads table), so they can be revealed to prove what was sent,
 * or erased (retention, a deletion request) without touching the hashed record.
 */
export interface Commitment {
  commitment: string;
  salt: string;
  value: string;
}

export interface RedactedArguments {
  args: Record<string, unknown>;
  commitments: Commitment[];
}

type PathRule = { segments: string[]; mode: RedactionMode };

/**
 * Applies the configured redaction to a call's arguments before the record is hashed:
 * keep | hmac (keyed per tenant, so equal values are linkable within a tenant, not across) |
 * commit | drop. Fields no rule names get the default, applied to the whole top-level field.
 */
export class Redactor {
  private readonly byTool = new Map<string, PathRule[]>();
  private readonly tenantKeys = new Map<string, Buffer>();

  constructor(
    private readonly rules: RedactionRules,
    private readonly hmacMasterKey: Buffer,
  ) {}

  redact(tool: string, tenant: string | undefined, args: Record<string, unknown>): RedactedArguments {
    const commitments: Commitment[] = [];
    const rules = this.rulesFor(tool);
    const out = this.walk(args, [], rules, tenant, commitments) as Record<string, unknown>;
    return { args: out, commitments };
  }

  private walk(value: unknown, path: string[], rules: PathRule[], tenant: string | undefined, commitments: Commitment[]): unknown {
    const key = path[path.length - 1];
    if (this.rules.detectSecrets && key !== undefined && isSecretName(key) && value !== null && value !== undefined) {
      return { $redacted: 'secret', detector: 'field-name' };
    }
    const exact = rules.find((r) => r.segments.length === path.length && matches(r.segments, path));
    if (exact) return this.apply(exact.mode, value, tenant, commitments);
    const deeper = rules.some((r) => r.segments.length > path.length && matches(r.segments.slice(0, path.length), path));
    if (!deeper && path.length > 0) return this.apply(this.rules.default, value, tenant, commitments);
    if (value !== null && typeof value === 'object') {
      if (Array.isArray(value)) return value.map((v, i) => this.walk(v, [...path, String(i)], rules, tenant, commitments));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = this.walk(v, [...path, k], rules, tenant, commitments);
      return out;
    }
    return this.apply(this.rules.default, value, tenant, commitments);
  }

  private apply(mode: RedactionMode, value: unknown, tenant: string | undefined, commitments: Commitment[]): unknown {
    // Secrets go first: a commitment would store the secret in the payloads table. A kept value
    // loses only its credential parts; a hashed or committed one is dropped whole.
    if (this.rules.detectSecrets && mode === 'keep') return withoutSecrets(value);
    if (this.rules.detectSecrets) {
      const found = findSecret(value);
      if (found) return { $redacted: 'secret', detector: found };
    }
    switch (mode) {
      case 'keep':
        return value;
      case 'drop':
        return { $redacted: 'drop' };
      case 'hmac':
        return {
          $hmac: createHmac('sha256', this.tenantKey(tenant))
            .update(canonicalBytes(value ?? null))
            .digest('hex'),
        };
      case 'commit': {
        const salt = randomBytes(16).toString('hex');
        const text = canonicalBytes(value ?? null);
        const commitment = sha256Hex(salt + text);
        commitments.push({ commitment, salt, value: text });
        return { $commit: commitment };
      }
    }
  }

  private tenantKey(tenant: string | undefined): Buffer {
    const id = tenant ?? '';
    let key = this.tenantKeys.get(id);
    if (!key) {
      key = createHmac('sha256', this.hmacMasterKey).update(`toolgate-audit-hmac:${id}`).digest();
      this.tenantKeys.set(id, key);
    }
    return key;
  }

  private rulesFor(tool: string): PathRule[] {
    let rules = this.byTool.get(tool);
    if (!rules) {
      rules = [];
      for (const name of [tool, '*']) {
        for (const [path, mode] of Object.entries(this.rules.tools[name] ?? {})) rules.push({ segments: path.split('.'), mode });
      }
      if (this.byTool.size < 10_000) this.byTool.set(tool, rules);
    }
    return rules;
  }
}

function matches(pattern: string[], path: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== path[i]) return false;
  return true;
}

/** The detector's verdict on any value: the first credential-shaped string or credential-named field in it. */
function findSecret(value: unknown, name?: string): string | undefined {
  if (typeof value === 'string') return name !== undefined && isSecretName(name) ? 'field-name' : secretKind(value);
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const kind = Array.isArray(value) ? findSecret(v) : findSecret(v, k);
      if (kind) return kind;
    }
  }
  return undefined;
}
