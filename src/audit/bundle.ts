import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AuditError } from '../pipeline/rejections.js';
import { type Checkpoint, type TrustedKeys, trustedKeys } from './checkpoint.js';
import { canonicalBytes } from './hashing.js';
import { keyIdOf } from './keys.js';
import type { AuditStore } from './store.js';
import { ChainVerifier, summarise, type VerifyReport } from './verify.js';

/**
 * The evidence bundle a reviewer takes away and verifies offline:
 *   records.jsonl      one line per record, chains one after another, in position order:
 *                      {"hash":…,"record":<the record's RFC 8785 bytes, as hashed>}
 *                      or, once retention removed the body, {"chain","seq","prev","hash","expired":true}
 *   checkpoints.jsonl  the signed checkpoints
 *   keys/<keyId>.pem   the checkpoint public keys
 *   manifest.json      what is in it: chains with their record counts and heads; signed as
 *   manifest.sig       Ed25519 over the manifest's RFC 8785 bytes, with the checkpoint key
 * Committed payloads (values behind `$commit`) are not exported: they are what erasure removes.
 */
export const BUNDLE_FORMAT = 'toolgate-audit-bundle/1';

interface ManifestChain {
  chain: string;
  instance: string;
  startedAt: string;
  sealedAt?: string;
  records: number;
  lastPosition: number;
  head: string | null;
}

export interface Manifest {
  format: string;
  createdAt: string;
  source: string;
  keyIds: string[];
  chains: ManifestChain[];
}

export async function exportBundle(store: AuditStore, dir: string, signingKey?: KeyObject): Promise<Manifest> {
  mkdirSync(join(dir, 'keys'), { recursive: true });
  const out = createWriteStream(join(dir, 'records.jsonl'));
  const checkpoints: string[] = [];
  const chains: ManifestChain[] = [];
  for (const info of await store.chains()) {
    let records = 0;
    let last = -1;
    let head: string | null = null;
    for await (const r of store.records(info.chain)) {
      const line =
        r.body === null ? JSON.stringify({ chain: r.chain, seq: r.seq, prev: r.prev, hash: r.hash, expired: true }) : `{"hash":${JSON.stringify(r.hash)},"record":${r.body}}`;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
      records += 1;
      last = r.seq;
      head = r.hash;
    }
    for (const cp of await store.checkpoints(info.chain)) checkpoints.push(JSON.stringify(cp));
    chains.push({
      chain: info.chain,
      instance: info.instance,
      startedAt: info.startedAt,
      ...(info.sealedAt ? { sealedAt: info.sealedAt } : {}),
      records,
      lastPosition: last,
      head,
    });
  }
  out.end();
  await once(out, 'finish');
  writeFileSync(join(dir, 'checkpoints.jsonl'), checkpoints.map((c) => `${c}\n`).join(''));
  const keyIds: string[] = [];
  for (const pem of await store.publicKeys()) {
    const id = keyIdOf(createPublicKey(pem));
    keyIds.push(id);
    writeFileSync(join(dir, 'keys', `${id}.pem`), pem);
  }
  const manifest: Manifest = { format: BUNDLE_FORMAT, createdAt: new Date().toISOString(), source: store.location, keyIds, chains };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (signingKey) writeFileSync(join(dir, 'manifest.sig'), `${sign(null, Buffer.from(canonicalBytes(manifest)), signingKey).toString('base64url')}\n`);
  return manifest;
}

/**
 * Verifies a bundle with nothing but its files. By default the bundle's own keys are trusted —
 * compare their ids with the ones the operator publishes — or pass the keys to trust.
 */
export async function verifyBundle(dir: string, trustedPems?: string[]): Promise<VerifyReport & { manifestSigned: boolean }> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new AuditError('ERR_AUDIT_BUNDLE', `${dir} has no manifest.json; is it an exported audit bundle?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  if (manifest.format !== BUNDLE_FORMAT) throw new AuditError('ERR_AUDIT_BUNDLE', `${manifestPath}: format ${String(manifest.format)}, expected ${BUNDLE_FORMAT}`);
  const keyDir = join(dir, 'keys');
  const pems =
    trustedPems ??
    (existsSync(keyDir)
      ? readdirSync(keyDir)
          .filter((f) => f.endsWith('.pem'))
          .map((f) => readFileSync(join(keyDir, f), 'utf8'))
      : []);
  const keys = trustedKeys(pems);
  const manifestSigned = manifestSignatureValid(dir, manifest, keys);

  const verifiers = new Map<string, ChainVerifier>();
  const order: string[] = manifest.chains.map((c) => c.chain);
  const verifierFor = (chain: string): ChainVerifier => {
    let v = verifiers.get(chain);
    if (!v) {
      v = new ChainVerifier(chain);
      verifiers.set(chain, v);
      if (!order.includes(chain)) order.push(chain);
    }
    return v;
  };
  const lines = createInterface({ input: createReadStream(join(dir, 'records.jsonl')), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as { hash: string; record?: { chain: string; seq: number; prev: string }; chain?: string; seq?: number; prev?: string; expired?: boolean };
    if (entry.record) verifierFor(entry.record.chain).add({ seq: entry.record.seq, prev: entry.record.prev, hash: entry.hash, body: canonicalBytes(entry.record) });
    else verifierFor(String(entry.chain)).add({ seq: Number(entry.seq), prev: String(entry.prev), hash: entry.hash, body: null });
  }
  const checkpoints = new Map<string, Checkpoint[]>();
  const cpPath = join(dir, 'checkpoints.jsonl');
  for (const line of existsSync(cpPath) ? readFileSync(cpPath, 'utf8').split('\n') : []) {
    if (line.trim() === '') continue;
    const cp = JSON.parse(line) as Checkpoint;
    checkpoints.set(cp.chain, [...(checkpoints.get(cp.chain) ?? []), cp]);
  }
  const reports = order.map((chain) => {
    const info = manifest.chains.find((c) => c.chain === chain);
    const report = verifierFor(chain).finish(checkpoints.get(chain) ?? [], keys, info?.sealedAt !== undefined);
    // A signed manifest also pins each chain's length: the tail after the last checkpoint counts too.
    if (!report.finding && manifestSigned && info && report.lastPosition < info.lastPosition) {
      report.finding = {
        chain,
        position: report.lastPosition + 1,
        kind: 'truncated',
        message: `the signed manifest lists records up to ${info.lastPosition} but the bundle ends at ${report.lastPosition}: records were cut off`,
      };
    }
    return report;
  });
  return { ...summarise(reports, keys), manifestSigned };
}

function manifestSignatureValid(dir: string, manifest: Manifest, keys: TrustedKeys): boolean {
  const sigPath = join(dir, 'manifest.sig');
  if (!existsSync(sigPath)) return false;
  const sig = Buffer.from(readFileSync(sigPath, 'utf8').trim(), 'base64url');
  for (const key of keys.values()) if (verify(null, Buffer.from(canonicalBytes(manifest)), key, sig)) return true;
  return false;
}

/** The signing key from a keys folder, when the exporter has it (the manifest is then signed). */
export function signingKeyFrom(pemPath: string): KeyObject | undefined {
  return existsSync(pemPath) ? createPrivateKey(readFileSync(pemPath)) : undefined;
}
