import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';

/**
 * The demo world's authorization server: oidc-provider (a certified OpenID Provider and OAuth
 * 2.1 authorization server) on its own loopback port, so that real MCP clients can run their
 * own OAuth flows against `toolgate demo`:
 *
 * - authorization code with PKCE (S256) for the demo users (`login_hint=alice` signs in at once;
 *   without it a one-click page asks who you are), and client credentials for the demo agents;
 * - resource indicators (RFC 8707): every access token is a JWT (`typ: at+jwt`, RFC 9068) whose
 *   `aud` is the gateway's resource URL, with `client_id`, `scope`, and the user's `tenant`;
 * - dynamic client registration (RFC 7591) for clients the demo does not know;
 * - metadata at `/.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
 *
 * Consent is implied (this is a demo of the gateway, not of a consent screen): a signed-in user
 * grants a client exactly the scopes it asked for. Keys and the agents' client secrets are kept
 * in a file (mode 0600) so tokens and printed commands survive a restart; registrations,
 * sessions and grants live in memory.
 */

export interface DemoAuthorizationServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Where keys and agent secrets are kept (created on first start). */
  stateFile: string;
  /** The gateway's canonical resource URI, known once the gateway listens: asked per request. */
  resource: () => string;
  /** Every scope the gateway understands. */
  scopes: string[];
  /** The demo users and their tenants. */
  users: Record<string, string>;
  /** The demo agents: pre-registered confidential clients (client credentials, and code flow on loopback). */
  agents: string[];
}

export interface DemoAuthorizationServer {
  /** `http://127.0.0.1:PORT`: the `iss` of its tokens and the base of its metadata. */
  issuer: string;
  /** The secret of each pre-registered agent client. */
  secrets: Record<string, string>;
  close(): Promise<void>;
}

interface StateFile {
  jwk: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** Access tokens live an hour, like `toolgate token`'s default; refresh tokens a day. */
const ACCESS_TOKEN_TTL = 3600;

export async function startDemoAuthorizationServer(o: DemoAuthorizationServerOptions): Promise<DemoAuthorizationServer> {
  // Loaded only when the demo runs: every other command stays free of it (and of the warning it
  // prints on import under Node 20, which it calls an unsupported runtime although it works).
  const { default: Provider, errors } = await import('oidc-provider');
  const state = loadOrCreateState(o.stateFile, o.agents);
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const issuer = `http://${o.host}:${(server.address() as { port: number }).port}`;
  const resourceServer = () => ({
    scope: o.scopes.join(' '),
    audience: o.resource(),
    accessTokenTTL: ACCESS_TOKEN_TTL,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  const provider = new Provider(issuer, {
    clients: o.agents.map((agent) => ({
      client_id: agent,
      client_secret: state.secrets[agent],
      client_name: agent,
      application_type: 'native',
      // Native clients on loopback: any port matches (RFC 8252 §7.3), as CLI clients pick one.
      redirect_uris: ['http://localhost/oauth/callback', 'http://127.0.0.1/oauth/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [state.jwk] },
    // The gateway's scopes are listed here too: registration checks a client's `scope` against this list.
    scopes: ['openid', 'offline_access', ...o.scopes],
    responseTypes: ['code'],
    pkce: { required: () => true },
    // A client registering with a narrow `scope` could never step up to more (RFC 7591 lets the
    // server set what it registers): every client may ask for every demo scope, and gets only
    // what it asks for.
    extraClientMetadata: {
      properties: ['scope'],
      validator: (_ctx: unknown, key: string, _value: unknown, metadata: Record<string, unknown>) => {
        if (key === 'scope') metadata.scope = ['openid', 'offline_access', ...o.scopes].join(' ');
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource gets a token for the gateway: the only resource here.
        defaultResource: () => o.resource(),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== o.resource()) throw new errors.InvalidTarget(`this authorization server issues tokens for ${o.resource()} only`);
          return resourceServer();
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => (id in o.users ? { accountId: id, claims: () => ({ sub: id, tenant: o.users[id] }) } : undefined),
    loadExistingGrant: (ctx: GrantContext) => impliedConsent(ctx, o.resource()),
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: ACCESS_TOKEN_TTL, ClientCredentials: ACCESS_TOKEN_TTL, RefreshToken: 86_400 },
    formats: {
      customizers: {
        // The gateway reads the tenant from the token (auth.claims.tenant): the user's tenant.
        jwt: (_ctx: unknown, token: { accountId?: string }, jwt: { payload: Record<string, unknown> }) => {
          const tenant = token.accountId ? o.users[token.accountId] : undefined;
          if (tenant) jwt.payload.tenant = tenant;
        },
      },
    },
  });
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const uid = /^\/interaction\/([\w-]+)$/.exec(path)?.[1];
    if (uid) {
      interact(provider, o.users, req, res).catch((err: Error) => answer(res, 400, `sign-in failed: ${err.message}`));
      return;
    }
    void callback(req, res);
  });
  return {
    issuer,
    secrets: state.secrets,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface InteractionProvider {
  Grant: (new (o: { accountId: string; clientId: string }) => Grant) & { find(id: string): Promise<Grant> };
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<unknown>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, options: { mergeWithLastSubmission: boolean }): Promise<void>;
}

interface GrantContext {
  oidc: {
    provider: { Grant: (new (o: { accountId: string; clientId: string }) => Grant) & { find(id: string): Promise<Grant> } };
    result?: { consent?: { grantId?: string } };
    client: { clientId: string };
    session: { accountId: string };
    requestParamScopes: Set<string>;
  };
}

interface Grant {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

/** Consent is implied: a fresh grant of exactly what this request asks for (so a step-up for one more scope just works). */
async function impliedConsent(ctx: GrantContext, resource: string): Promise<Grant> {
  const { provider, client, session, requestParamScopes, result } = ctx.oidc;
  // Just given in an interaction (a client that asked for consent explicitly): that grant.
  if (result?.consent?.grantId) return provider.Grant.find(result.consent.grantId);
  const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
  const asked = [...requestParamScopes];
  // Every known scope asked for counts as granted at the provider level too (they are all listed in `scopes`).
  if (asked.length > 0) grant.addOIDCScope(asked.join(' '));
  const forResource = asked.filter((s) => s !== 'openid' && s !== 'offline_access');
  if (forResource.length > 0) grant.addResourceScope(resource, forResource.join(' '));
  await grant.save();
  return grant;
}

/**
 * Sign-in: `login_hint` naming a demo user signs in at once (how tests and scripted clients do
 * it, e.g. `mcp-remote … --authorize-param login_hint=alice`); otherwise a page with one button
 * per user. A POST carries the chosen user.
 */
async function interact(provider: InteractionProvider, users: Record<string, string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = (await provider.interactionDetails(req, res)) as InteractionDetails;
  if (details.prompt.name === 'consent') {
    // Asked for explicitly (prompt=consent, as clients do with offline_access): implied here too.
    const grantId = await grantWhatIsMissing(provider, details);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
  const chosen = req.method === 'POST' ? new URLSearchParams(await readBody(req)).get('user') : (details.params.login_hint as string | undefined);
  if (chosen && chosen in users) {
    await provider.interactionFinished(req, res, { login: { accountId: chosen } }, { mergeWithLastSubmission: false });
    return;
  }
  const buttons = Object.entries(users)
    .map(([user, tenant]) => `<button name="user" value="${user}">${user} (${tenant})</button>`)
    .join(' ');
  answer(
    res,
    200,
    `<!doctype html><title>toolgate demo sign-in</title><h1>Sign in to the toolgate demo</h1>
<p>${escapeHtml(String(details.params.client_id))} asks for: ${escapeHtml(String(details.params.scope ?? ''))}</p>
<form method="post" action="/interaction/${details.uid}">${buttons}</form>`,
  );
}

interface InteractionDetails {
  uid: string;
  prompt: { name: string; details: { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> } };
  params: Record<string, unknown>;
  grantId?: string;
  session?: { accountId: string };
}

async function grantWhatIsMissing(provider: InteractionProvider, details: InteractionDetails): Promise<string> {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session?.accountId ?? '', clientId: String(details.params.client_id) });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 4096) req.destroy(new Error('sign-in form too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(status === 200 ? html : escapeHtml(html));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The signing key and agent secrets: created once, kept with mode 0600 beside the demo's other keys. */
function loadOrCreateState(path: string, agents: string[]): StateFile {
  let state: StateFile | undefined;
  if (existsSync(path)) state = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  const fresh = !state;
  if (!state) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    state = { jwk: { ...privateKey.export({ format: 'jwk' }), kid: `demo-as-${randomUUID().slice(0, 8)}`, use: 'sig', alg: 'RS256' }, secrets: {} };
  }
  const missing = agents.filter((a) => !state.secrets[a]);
  for (const agent of missing) state.secrets[agent] = randomBytes(18).toString('base64url');
  if (fresh || missing.length > 0) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return state;
}
