/**
 * The credentials slot of the micro suite: one per-call token minted (Ed25519, node:crypto) with
 * the same principal, call and target as minting.ts, whose standalone run adds per-call
 * percentiles and the baselines (bare signature, jose, ES256, the upstream's verification).
 */
import { KeyRing } from '../../src/credentials/key-ring.js';
import { CallTokenMinter } from '../../src/credentials/minter.js';
import type { Invocation, Principal, RequestContext } from '../../src/pipeline/stages.js';
import { type MicroFigure, measureSync } from './measure.js';

/** The call every minting measurement signs: a realistic principal, request and CRM write. */
export const MINTING_CALL = {
  principal: { agent: 'sales-bot', user: 'alice', tenant: 'acme', scopes: ['crm.read', 'crm.write'], bindingKey: 'k', anonymous: false } satisfies Principal as Principal,
  ctx: {
    requestId: '5f0c6a1e-8d0b-4a43-9d1b-5d1f6f0e2a11',
    sessionId: 'c1d2e3f4-0000-4000-8000-000000000001',
    protocolVersion: '2025-11-25',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    receivedAt: new Date(),
  } satisfies RequestContext as RequestContext,
  invocation: {
    method: 'tools/call',
    upstream: 'crm',
    target: 'update_contact',
    exposedName: 'crm__update_contact',
    arguments: {
      tenant: 'acme',
      id: 'c-1042',
      fields: { email: 'ana@example.com', phone: '+49 30 1234567', tags: ['vip', 'q3'], notes: 'Met at the fair; wants a demo in October.' },
    },
    auditRef: { chain: 'gw-1', position: 123456, hash: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg' },
  } satisfies Invocation as Invocation,
  target: { audience: 'https://crm.internal/mcp', lifetimeSeconds: 30, scopes: ['crm.write'] },
};

export function mintEd25519(ms: number): MicroFigure {
  const { principal, ctx, invocation, target } = MINTING_CALL;
  const ring = KeyRing.generate('Ed25519', Math.floor(Date.now() / 1000));
  const minter = new CallTokenMinter(() => ring, { issuer: 'https://gw.example.com', instance: 'gw-1' });
  return measureSync(() => minter.mint(principal, invocation, ctx, target), ms);
}
