/**
 * A real authorization server with an RFC 8693 token-exchange grant: oidc-provider v9 in this
 * process. Agents get access tokens for the gateway with client credentials (the subject
 * tokens); the gateway's own client exchanges a subject token for a token whose `aud` is one
 * upstream (`resource`). The grant handler checks the subject token's signature, issuer and
 * audience with jose, refuses resources it was told to refuse, and records every exchange.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SCOPES = ['crm.read', 'crm.write', 'hr.employee.read'];

export interface ExchangeRecord {
  clientId: string;
  subject: string;
  resource: string;
  scope?: string;
  outcome: 'issued' | 'refused';
}

export interface ExchangeServer {
  issuer: string;
  tokenEndpoint: string;
  exchanges: ExchangeRecord[];
  /** Resources the server refuses to exchange for (invalid_target). */
  refuse: Set<string>;
  /** A client-credentials access token for `resource` (what an agent presents to the gateway). */
  agentToken(clientId: string, resource: string): Promise<string>;
  close(): Promise<void>;
}

export interface ExchangeClients {
  agent: { client_id: string; client_secret: string };
  gateway: { client_id: string; client_secret: string };
}

export async function startExchangeServer(clients: ExchangeClients, gatewayResource: string): Promise<ExchangeServer> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `k-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  const keys = createLocalJWKSet({ keys: [publicJwk as JWK] });
  const exchanges: ExchangeRecord[] = [];
  const refuse = new Set<string>();
  const resourceInfo = { scope: SCOPES.join(' '), accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };

  const provider = new Provider(issuer, {
    clients: [
      { ...clients.agent, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPES.join(' ') },
      { ...clients.gateway, grant_types: [GRANT], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: SCOPES.join(' ') },
    ],
    jwks: { keys: [jwk] },
    scopes: SCOPES,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: { enabled: true, useGrantedResource: () => true, getResourceServerInfo: () => resourceInfo },
    },
    formats: {
      customizers: {
        // The exchanged token names whom it is for (the subject) and who asked (the gateway).
        jwt: (ctx: { oidc: { entities: Record<string, unknown> }; state?: Record<string, unknown> }, _token: unknown, jwt: { payload: Record<string, unknown> }) => {
          const exchange = ctx.state?.exchange as { subject: string; actor: string } | undefined;
          if (exchange) Object.assign(jwt.payload, { sub: exchange.subject, act: { sub: exchange.actor } });
        },
      },
    },
  } as never);

  provider.registerGrantType(
    GRANT,
    async (ctx: { oidc: { params: unknown; client: unknown }; state?: Record<string, unknown>; body?: unknown }) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const client = ctx.oidc.client as { clientId: string };
      const resource = params.resource ?? '';
      let subject: string;
      try {
        if (params.subject_token_type !== 'urn:ietf:params:oauth:token-type:access_token') throw new Error('unsupported subject_token_type');
        const { payload } = await jwtVerify(params.subject_token ?? '', keys, { issuer, audience: gatewayResource });
        subject = String(payload.sub);
      } catch (err) {
        exchanges.push({ clientId: client.clientId, subject: '?', resource, outcome: 'refused' });
        throw new errors.InvalidGrant(`subject_token is not valid: ${(err as Error).message}`);
      }
      if (refuse.has(resource)) {
        exchanges.push({ clientId: client.clientId, subject, resource, outcome: 'refused' });
        throw new errors.InvalidTarget('exchange for this resource is not permitted');
      }
      const token = new provider.ClientCredentials({ client, scope: params.scope });
      token.resourceServer = new provider.ResourceServer(resource, resourceInfo);
      ctx.state = { ...(ctx.state ?? {}), exchange: { subject, actor: client.clientId } };
      const value = await token.save();
      exchanges.push({ clientId: client.clientId, subject, resource, ...(params.scope ? { scope: params.scope } : {}), outcome: 'issued' });
      ctx.body = {
        access_token: value,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: token.expiration,
        ...(params.scope ? { scope: params.scope } : {}),
      };
    },
    ['subject_token', 'subject_token_type', 'resource', 'audience', 'scope', 'actor_token', 'actor_token_type'],
  );
  const handler = provider.callback();
  server.on('request', (req, res) => void handler(req, res));

  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    exchanges,
    refuse,
    async agentToken(clientId, resource) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clients.agent.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'crm.read' }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`agent token request failed: ${res.status} ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
