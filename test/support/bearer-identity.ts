/**
 * TEST DOUBLE — not an identity stage. Accepts any `Authorization: Bearer <token>` (no check at
 * all) as sales-bot acting for alice, and keeps the token as the principal's subjectToken the way
 * the real identity stage does, so credential tests can prove that token never goes upstream.
 * No header: 401.
 */
import type { IncomingMessage } from 'node:http';
import type { IdentityStage, Principal, Rejection } from '../../src/pipeline/stages.js';

export function acceptAnyBearerForTests(who: { agent: string; user?: string; scopes?: string[] } = { agent: 'sales-bot', user: 'alice' }): IdentityStage {
  return {
    async authenticate(req: IncomingMessage): Promise<Principal | Rejection> {
      const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!match) return { status: 401, headers: { 'www-authenticate': 'Bearer' }, reason: 'no bearer token (test identity)' };
      return {
        agent: who.agent,
        ...(who.user !== undefined ? { user: who.user } : {}),
        scopes: who.scopes ?? ['crm.read'],
        bindingKey: `${who.agent}|${who.user ?? ''}`,
        anonymous: false,
        subjectToken: match[1]!,
      };
    },
  };
}
