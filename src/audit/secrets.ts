/**
 * The secret detector: tokens and keys are never written to the audit log, whatever the
 * redaction rule for their field says. It looks at values (the shapes credentials have) and at
 * field names (what callers put credentials under). A false positive costs one dropped value in
 * a record; a false negative puts a credential into a file that is kept for months.
 */
const VALUE_PATTERNS: Array<[string, RegExp]> = [
  ['jwt', /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/],
  ['private-key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['bearer', /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/i],
  ['aws-access-key', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['github-token', /\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b/],
  ['slack-token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ['api-key', /\b(sk|pk|rk)[-_](live|test|proj|ant)?[-_]?[A-Za-z0-9_-]{20,}/],
  ['google-api-key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['basic-auth-url', /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@/i],
];

const SECRET_NAMES = /^(password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|authorization|private[_-]?key|credentials?)$/i;

/** The kind of credential a string looks like, or undefined. */
export function secretKind(value: string): string | undefined {
  if (value.length < 16) return undefined;
  for (const [kind, pattern] of VALUE_PATTERNS) if (pattern.test(value)) return kind;
  return undefined;
}

/** True for field names that conventionally hold credentials (`password`, `api_key`…). */
export function isSecretName(name: string): boolean {
  return SECRET_NAMES.test(name);
}

/**
 * A copy of any JSON value with every string that looks like a credential replaced by a
 * marker. For free text the auditor still wants (error messages, details).
 */
export function withoutSecrets(value: unknown, name?: string): unknown {
  if (typeof value === 'string') {
    if (name !== undefined && isSecretName(name)) return { $redacted: 'secret', detector: 'field-name' };
    const kind = secretKind(value);
    return kind ? { $redacted: 'secret', detector: kind } : value;
  }
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = isSecretName(k) && v !== null ? { $redacted: 'secret', detector: 'field-name' } : withoutSecrets(v, k);
    }
    return out;
  }
  return value;
}
