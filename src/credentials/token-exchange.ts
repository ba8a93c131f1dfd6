import { type Dispatcher, request } from 'undici';
import { CredentialError } from './errors.js';

export interface TokenExchangeSettings {
  upstream: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  resource: string;
  audience?: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 8693 token exchange at the enterprise authorization server: the caller's validated token
 * goes in as `subject_token`, a token for this upstream alone (`resource`) comes back. toolgate
 * authenticates as a confidential client (client_secret_basic). Any failure throws; the caller
 * never falls back to the subject token.
 */
export async function exchangeToken(settings: TokenExchangeSettings, subjectToken: string, scopes: readonly string[]): Promise<string> {
  const form = new URLSearchParams({ grant_type: GRANT, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, resource: settings.resource });
  if (settings.audience !== undefined) form.set('audience', settings.audience);
  if (scopes.length > 0) form.set('scope', scopes.join(' '));
  const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64');
  let res: Dispatcher.ResponseData;
  try {
    res = await request(settings.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
      body: form.toString(),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
    });
  } catch (err) {
    throw new CredentialError('ERR_TOKEN_EXCHANGE_UNREACHABLE', settings.upstream, `token endpoint ${settings.tokenEndpoint} cannot be reached: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const text = await res.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Reported below with the status.
  }
  if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
    const why = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : `HTTP ${res.statusCode}`;
    throw new CredentialError('ERR_TOKEN_EXCHANGE_REFUSED', settings.upstream, `the authorization server refused the token exchange (${why})`);
  }
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
    throw new CredentialError('ERR_TOKEN_EXCHANGE_REFUSED', settings.upstream, `the exchange returned a ${body.token_type} token; only Bearer is supported`);
  }
  return body.access_token;
}
