/**
 * This endpoint as an OAuth protected resource: its canonical resource URI (what `aud` must
 * contain, RFC 8707) and its RFC 9728 metadata, served at the path-inserted well-known URL
 * (`/.well-known/oauth-protected-resource/mcp` for `…/mcp`) and at the root.
 *
 * The URI is known only once the listener is up (port 0, TLS), so `bind` is called then;
 * nothing is served before.
 */
export class ProtectedResource {
  private uri = '';

  constructor(
    private readonly options: {
      /** Configured canonical URI; default: the endpoint URL given to `bind`. */
      resource?: string;
      authorizationServers: string[];
      /** Every scope this resource understands (RFC 9728 `scopes_supported`). */
      scopesSupported: string[];
      /** Scopes a 401 asks for, enough to start with (default: `scopesSupported`); more are stepped up to on a 403. */
      challengeScopes?: string[];
      /** RFC 8705 certificate-bound tokens are understood (mTLS is on). */
      certificateBound: boolean;
      /** RFC 9449 proof algorithms, advertised as `dpop_signing_alg_values_supported`. */
      dpopAlgorithms?: string[];
    },
  ) {}

  bind(endpointUrl: string): void {
    this.uri = this.options.resource ?? endpointUrl;
  }

  get resource(): string {
    return this.uri;
  }

  /** The URL clients are pointed at in `WWW-Authenticate: Bearer resource_metadata=…`. */
  get metadataUrl(): string {
    const u = new URL(this.uri);
    const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    return `${u.origin}/.well-known/oauth-protected-resource${path}`;
  }

  /** Scopes named in the 401 challenge: every upstream's baseline. */
  get challengeScopes(): string[] {
    return this.options.challengeScopes ?? this.options.scopesSupported;
  }

  /** Request paths that answer with the metadata document. */
  paths(listenerPath: string): string[] {
    const resourcePath = new URL(this.uri).pathname.replace(/\/$/, '');
    return [...new Set([`/.well-known/oauth-protected-resource${resourcePath}`, `/.well-known/oauth-protected-resource${listenerPath}`, '/.well-known/oauth-protected-resource'])];
  }

  document(): Record<string, unknown> {
    return {
      resource: this.uri,
      authorization_servers: this.options.authorizationServers,
      scopes_supported: this.options.scopesSupported,
      bearer_methods_supported: ['header'],
      resource_name: 'toolgate',
      ...(this.options.certificateBound ? { tls_client_certificate_bound_access_tokens: true } : {}),
      ...(this.options.dpopAlgorithms ? { dpop_signing_alg_values_supported: this.options.dpopAlgorithms } : {}),
    };
  }
}
