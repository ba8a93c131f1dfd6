import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../config/types.js';
import { AuthenticationError } from './errors.js';

/**
 * RFC 7662 token introspection for opaque (non-JWT) tokens: each issuer that has an
 * introspection endpoint is asked in config order; the first that says `active: true` wins.
 * toolgate authenticates to the endpoint with client_secret_basic. The answer is checked like
 * a JWT's claims would be: audience must contain this resource, `exp` in the future.
 * Caching (short, never past `exp`) is the caller's, keyed by token hash like verified JWTs.
 */
export async function introspect(token: string, issuers: IssuerConfig[], resource: string, nowMs: number): Promise<{ claims: JWTPayload; issuer: IssuerConfig }> {
  const candidates = issuers.filter((i) => i.introspection);
  if (candidates.length === 0) throw new AuthenticationError('ERR_TOKEN_MALFORMED', 'not a JWT, and no issuer has introspection configured for opaque tokens');
  const answers: string[] = [];
  for (const issuer of candidates) {
    const ep = issuer.introspection!;
    let body: Record<string, unknown>;
    try {
      const res = await fetch(ep.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(ep.clientId)}:${encodeURIComponent(ep.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      answers.push(`${issuer.issuer}: ${(err as Error).message}`);
      continue;
    }
    if (body.active !== true) {
      answers.push(`${issuer.issuer}: inactive`);
      continue;
    }
    if (body.iss !== undefined && body.iss !== issuer.issuer)
      throw new AuthenticationError('ERR_TOKEN_ISSUER', `introspection at ${ep.url} answered iss ${JSON.stringify(body.iss)}, expected ${issuer.issuer}`);
    const aud = Array.isArray(body.aud) ? body.aud : body.aud === undefined ? [] : [body.aud];
    if (!aud.includes(resource)) throw new AuthenticationError('ERR_TOKEN_AUDIENCE', `introspected token's aud ${JSON.stringify(body.aud)} does not contain ${resource}`);
    if (typeof body.exp === 'number' && body.exp * 1000 <= nowMs) throw new AuthenticationError('ERR_TOKEN_EXPIRED', `introspected token expired at ${body.exp}`);
    return { claims: { ...body, iss: issuer.issuer } as JWTPayload, issuer };
  }
  throw new AuthenticationError('ERR_TOKEN_INACTIVE', `opaque token not active at any introspection endpoint (${answers.join('; ')})`);
}
