import type { GatewayConfig, UpstreamCredentialConfig } from '../config/types.js';
import type { AuditSink } from '../pipeline/stages.js';
import { KeyHolder } from './key-holder.js';
import { CallTokenMinter } from './minter.js';
import { PerCallCredentials } from './stage.js';

export const JWKS_PATH = '/.well-known/jwks.json';
export const ISSUER_METADATA_PATH = '/.well-known/toolgate-issuer';

/** The credential stage and the public documents that let upstreams check its tokens. */
export interface CredentialsRuntime {
  stage: PerCallCredentials;
  /** The JWKS and issuer metadata by path; undefined for any other path. */
  document(path: string): unknown;
}

/**
 * Builds the credential stage from the config, or undefined when no upstream has a credential
 * (today's behaviour: no credential header at all). Signing keys are loaded (or created) here,
 * at start-up, so a bad key file stops the gateway rather than failing calls.
 */
export function startCredentials(config: GatewayConfig, audit: AuditSink, options: { now?: () => number; log?: (message: string) => void } = {}): CredentialsRuntime | undefined {
  const plans = new Map<string, UpstreamCredentialConfig>();
  for (const u of config.upstreams) if (u.credential !== undefined && u.credential.mode !== 'none') plans.set(u.id, u.credential);
  const settings = config.credentials;
  if (plans.size === 0 && settings === undefined) return undefined;
  const now = options.now ?? Date.now;
  const keys = settings !== undefined ? new KeyHolder(settings, now, options.log) : undefined;
  const minter = keys !== undefined && settings !== undefined ? new CallTokenMinter(keys.current, { issuer: settings.issuer, instance: settings.instance, now }) : undefined;
  const stage = new PerCallCredentials({ upstreams: plans, ...(minter !== undefined ? { minter } : {}), audit });
  return {
    stage,
    document(path) {
      if (keys === undefined || settings === undefined) return undefined;
      if (path === JWKS_PATH) return keys.current().jwks(Math.floor(now() / 1000));
      if (path === ISSUER_METADATA_PATH) {
        return {
          issuer: settings.issuer,
          ...(config.listener.publicUrl !== undefined ? { jwks_uri: `${config.listener.publicUrl}${JWKS_PATH}` } : {}),
          jwks_path: JWKS_PATH,
          token_type: 'toolgate-call+jwt',
          signing_alg_values_supported: [keys.current().current.alg],
          max_token_lifetime_seconds: settings.maxLifetimeSeconds,
          claims_supported: [
            'iss',
            'aud',
            'sub',
            'act',
            'client_id',
            'scope',
            'mcp_method',
            'tool',
            'args_sha256',
            'req_id',
            'sid',
            'trace_id',
            'instruction',
            'audit',
            'jti',
            'iat',
            'exp',
          ],
        };
      }
      return undefined;
    },
  };
}
