/**
 * The stages as they stand before authentication, policy, credentials and audit land:
 * anonymous callers, every listed item visible, every call allowed, no credential,
 * events kept in memory only (bounded). Each is named for what it does, so nobody mistakes
 * it for the real stage.
 */
import type { AuditEvent, AuditSink, CredentialStage, Decision, IdentityStage, PolicyStage, Principal } from './stages.js';

export const anonymousIdentity: IdentityStage = {
  async authenticate(): Promise<Principal> {
    return { agent: 'anonymous', scopes: [], bindingKey: 'anonymous', anonymous: true };
  },
};

export const allowEverything: PolicyStage = {
  decide(): Decision {
    return { verdict: 'allow', policies: [], errors: [] };
  },
  mayList(): boolean {
    return true;
  },
};

export const noCredential: CredentialStage = {
  async credentialFor(): Promise<Record<string, string>> {
    return {};
  },
};

export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  constructor(private readonly limit = 10_000) {}
  async record(event: AuditEvent): Promise<void> {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }
}
