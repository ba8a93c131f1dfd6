import type { AuthConfig } from '../../src/config/types.js';

/**
 * An `auth:` config as the loader resolves it, for tests that build the identity stage without a
 * config file: one ES256 issuer, no clock skew, a small token cache; `overrides` replace fields.
 */
export function testAuthConfig(issuer: string, overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    mode: 'oauth',
    issuers: [{ issuer, algorithms: ['ES256'] }],
    tokenTypes: ['at+jwt'],
    clockSkewSeconds: 0,
    maxTokenLifetimeSeconds: 3600,
    requiredClaims: ['sub', 'jti'],
    claims: { agent: 'client_id', user: 'sub', tenant: 'tenant' },
    requireCertTokenAgreement: false,
    maxTokenBytes: 8192,
    jwksRefreshMinSeconds: 30,
    cacheMaxEntries: 100,
    devIssuer: false,
    devIssuerFile: '',
    ...overrides,
  };
}
