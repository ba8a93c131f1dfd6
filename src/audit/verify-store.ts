import type { TrustedKeys } from './checkpoint.js';
import type { AuditStore } from './store.js';
import { ChainVerifier, summarise, type VerifyReport } from './verify.js';

/** Verifies every chain in a store against the given trusted checkpoint keys. */
export async function verifyStore(store: AuditStore, keys: TrustedKeys): Promise<VerifyReport> {
  const reports = [];
  for (const info of await store.chains()) {
    const verifier = new ChainVerifier(info.chain);
    for await (const r of store.records(info.chain)) verifier.add(r);
    reports.push(verifier.finish(await store.checkpoints(info.chain), keys, info.sealedAt !== undefined));
  }
  return summarise(reports, keys);
}
