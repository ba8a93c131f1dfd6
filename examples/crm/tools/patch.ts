/** Applying an update_* call to a stored record: given fields replace, omitted ones stay. */

/**
 * Copies the defined entries of `patch` onto `record` and stamps `updated_at`. Unknown keys are
 * copied too — the CRM trusts its callers (see advertise.ts).
 */
export function applyPatch<R extends { updated_at: string }>(record: R, patch: object, timestamp: string): R {
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (record as Record<string, unknown>)[key] = value;
  }
  record.updated_at = timestamp;
  return record;
}
