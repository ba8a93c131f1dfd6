/**
 * TEST DOUBLE — not an identity stage. Reads the principal from test headers so policy tests do
 * not depend on real authentication: x-test-agent, x-test-user, x-test-tenant, x-test-scopes
 * (space-separated). No header: the anonymous principal.
 */
import type { IncomingMessage } from 'node:http';
import type { IdentityStage, Principal } from '../../src/pipeline/stages.js';

export const headerIdentityForTests: IdentityStage = {
  async authenticate(req: IncomingMessage): Promise<Principal> {
    const h = (n: string): string | undefined => {
      const v = req.headers[n];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const agent = h('x-test-agent') ?? 'anonymous';
    const user = h('x-test-user');
    const tenant = h('x-test-tenant');
    return {
      agent,
      ...(user ? { user } : {}),
      ...(tenant ? { tenant } : {}),
      scopes: (h('x-test-scopes') ?? '').split(' ').filter(Boolean),
      bindingKey: `${agent}|${user ?? ''}|${tenant ?? ''}`,
      anonymous: agent === 'anonymous',
    };
  },
};

/** Headers for one test principal. */
export function as(agent: string, opts: { user?: string; tenant?: string; scopes?: string } = {}): Record<string, string> {
  return {
    'x-test-agent': agent,
    ...(opts.user ? { 'x-test-user': opts.user } : {}),
    ...(opts.tenant ? { 'x-test-tenant': opts.tenant } : {}),
    ...(opts.scopes ? { 'x-test-scopes': opts.scopes } : {}),
  };
}
