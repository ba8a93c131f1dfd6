/**
 * A real OAuth 2.1 authorization server for tests: oidc-provider v9, in this process, on a
 * free loopback port. Client-credentials grant with resource indicators (RFC 8707) issuing
 * RS256 `at+jwt` access tokens whose `aud` is the resource asked for. Keys can be rotated
 * at run time (a new provider with the new key first, the old key still published), and JWKS
 * fetches are counted so tests can see refreshes and their rate limit.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export interface TestClient {
  client_id: string;
  client_secret: string;
  scope: string;
}

export interface AuthorizationServer {
  issuer: string;
  jwksFetches: number;
  /** Replace the signing key; the previous one stays published. Returns the new kid. */
  rotate(): string;
  /** A token for `resource` via the client-credentials grant. */
  token(clientId: string, resource: string, scope?: string): Promise<string>;
  /** Extra claims to add to every JWT access token (e.g. tenant). */
  extraClaims: Record<string, unknown>;
  close(): Promise<void>;
}

const SCOPES = ['crm.read', 'crm.write', 'crm.admin', 'hr.employee.read', 'hr.employee.write'];

function rsaJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `k-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' };
}

export async function startAuthorizationServer(clients: TestClient[], options: { format?: 'jwt' | 'opaque' } = {}): Promise<AuthorizationServer> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const keys = [rsaJwk()];
  const state = { extraClaims: {} as Record<string, unknown> };

  const build = () =>
    new Provider(issuer, {
      clients: clients.map((c) => ({ ...c, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' })),
      jwks: { keys },
      scopes: SCOPES,
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        resourceIndicators: {
          enabled: true,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: SCOPES.join(' '),
            accessTokenTTL: 600,
            accessTokenFormat: options.format ?? 'jwt',
            ...(options.format === 'opaque' ? {} : { jwt: { sign: { alg: 'RS256' } } }),
          }),
        },
      },
      formats: {
        customizers: {
          jwt: (_ctx: unknown, _token: unknown, jwt: { payload: Record<string, unknown> }) => {
            Object.assign(jwt.payload, state.extraClaims);
          },
        },
      },
    });

  let provider = build();
  let handler = provider.callback();
  const as: AuthorizationServer = {
    issuer,
    jwksFetches: 0,
    extraClaims: state.extraClaims,
    rotate() {
      keys.unshift(rsaJwk());
      provider = build();
      handler = provider.callback();
      return keys[0]!.kid as string;
    },
    async token(clientId, resource, scope) {
      const client = clients.find((c) => c.client_id === clientId)!;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: scope ?? client.scope }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token request failed: ${res.status} ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/jwks')) as.jwksFetches++;
    void handler(req, res);
  });
  return as;
}
