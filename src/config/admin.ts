/**
 * The `admin:` section of the config file: the bearer secret that unlocks the detailed status
 * (`GET /admin/status`, and the full bodies of `/healthz` and `/readyz`). Its schema is imported
 * by schema.ts and its resolution by resolve.ts, so those files change by one line each.
 * docs/config.md "admin" describes the keys.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** An admin token shorter than this is refused: it must not be guessable, even online. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;

/** `admin:` after resolution: exactly one of the two is set; `tokenFile` is absolute. */
export interface AdminSettings {
  /** The secret itself (best given as `${ENV}` so it stays out of the file). */
  token?: string;
  /** A file whose content (trimmed) is the secret, e.g. a mounted Kubernetes secret. */
  tokenFile?: string;
}

const tokenText = `expected a secret of at least ${ADMIN_TOKEN_MIN_LENGTH} characters without spaces (e.g. from openssl rand -hex 32; put it in \${ENV} or token_file)`;

export const adminSection = z
  .strictObject(
    {
      token: z.preprocess(
        (v) => (v === null ? undefined : v),
        z.string({ error: tokenText }).regex(/^\S+$/, { error: tokenText }).min(ADMIN_TOKEN_MIN_LENGTH, { error: tokenText }).optional(),
      ),
      token_file: z.preprocess(
        (v) => (v === null ? undefined : v),
        z.string({ error: 'expected the path of a file holding the admin token' }).min(1, { error: 'expected the path of a file holding the admin token' }).optional(),
      ),
    },
    { error: 'expected a mapping with token or token_file' },
  )
  .superRefine((admin, ctx) => {
    if (admin.token === undefined && admin.token_file === undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], input: undefined, message: 'give token (as ${ENV}) or token_file' });
    } else if (admin.token !== undefined && admin.token_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token_file'], input: admin.token_file, message: 'give token or token_file, not both' });
    }
  });

export function resolveAdmin(section: z.output<typeof adminSection>, folder: string): AdminSettings {
  if (section.token_file !== undefined) return { tokenFile: isAbsolute(section.token_file) ? section.token_file : resolve(folder, section.token_file) };
  return { token: section.token! };
}
