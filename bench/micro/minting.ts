/**
 * Per-call token cost: minting (src/credentials/minter.ts) per call, one mint at a time, with
 * per-operation percentiles (the target is p99 <= 100 µs for Ed25519 via node:crypto), beside
 * baselines in the same run: a bare node:crypto Ed25519 signature over the same bytes (the floor),
 * jose's SignJWT for the same claims (the alternative we did not take), ES256, and the upstream's
 * side (CallVerifier.verify with local keys, replay store included: in memory, and the replay file
 * with and without fsync).
 *
 *   node --import tsx bench/micro/minting.ts [--ms 2000]
 */
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CallVerifier } from '@toolgate/verify';
import { importJWK, SignJWT } from 'jose';
import { KeyRing } from '../../src/credentials/key-ring.js';
import { CallTokenMinter } from '../../src/credentials/minter.js';
import { consume } from './measure.js';
import { MINTING_CALL } from './minting-slot.js';

interface Percentiles {
  name: string;
  ops: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  vs_floor_p50: number;
}

const { values } = parseArgs({ options: { ms: { type: 'string', default: '2000' } } });
const MS = Number(values.ms);

const { principal, ctx, invocation, target } = MINTING_CALL;

function percentiles(name: string, samples: number[], floorP50?: number): Percentiles {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))]! / 1000;
  const p50 = at(0.5);
  return {
    name,
    ops: samples.length,
    p50_us: round(p50),
    p90_us: round(at(0.9)),
    p99_us: round(at(0.99)),
    p999_us: round(at(0.999)),
    vs_floor_p50: floorP50 ? round(p50 / floorP50) : 1,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Times each call on its own (hrtime around one operation), after a warm-up. */
function timeEach(fn: () => unknown): number[] {
  for (let i = 0; i < 2000; i++) consume(fn());
  const out: number[] = [];
  const end = performance.now() + MS;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    consume(fn());
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

async function timeEachAsync(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 500; i++) consume(await fn());
  const out: number[] = [];
  const end = performance.now() + MS;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    consume(await fn());
    out.push(Number(process.hrtime.bigint() - t0));
  }
  return out;
}

async function main(): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const ed = KeyRing.generate('Ed25519', now);
  const es = KeyRing.generate('ES256', now);
  const edMinter = new CallTokenMinter(() => ed, { issuer: 'https://gw.example.com', instance: 'gw-1' });
  const esMinter = new CallTokenMinter(() => es, { issuer: 'https://gw.example.com', instance: 'gw-1' });
  const sample = edMinter.mint(principal, invocation, ctx, target);
  const signingInput = Buffer.from(sample.token.split('.').slice(0, 2).join('.'));

  const floor = percentiles(
    'floor: node:crypto Ed25519 sign of the same bytes',
    timeEach(() => sign(null, signingInput, ed.current.privateKey)),
  );
  const rows = [
    floor,
    percentiles(
      'mint, Ed25519 (node:crypto)',
      timeEach(() => edMinter.mint(principal, invocation, ctx, target)),
      floor.p50_us,
    ),
    percentiles(
      'mint, ES256 (node:crypto)',
      timeEach(() => esMinter.mint(principal, invocation, ctx, target)),
      floor.p50_us,
    ),
  ];
  const joseKey = await importJWK(ed.current.privateKey.export({ format: 'jwk' }) as never, 'EdDSA');
  rows.push(
    percentiles(
      'jose SignJWT, same claims, Ed25519',
      await timeEachAsync(() => new SignJWT({ ...sample.claims }).setProtectedHeader({ alg: 'EdDSA', typ: 'toolgate-call+jwt', kid: ed.current.kid }).sign(joseKey)),
      floor.p50_us,
    ),
  );
  const verifier = new CallVerifier({ replay: 'memory', keys: ed.jwks(now) as never, audience: target.audience });
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: invocation.target, arguments: invocation.arguments } };
  rows.push(
    percentiles(
      'upstream: mint + CallVerifier.verify (sig, claims, args hash, jti)',
      await timeEachAsync(() => verifier.verify(`Bearer ${edMinter.mint(principal, invocation, ctx, target).token}`, body)),
      floor.p50_us,
    ),
  );

  // The same with the replay file (the verifier's default): one append per call, and with
  // fsync one fdatasync per call too (one call at a time here, so no write is shared).
  const replayDir = mkdtempSync(join(tmpdir(), 'toolgate-bench-replay-'));
  try {
    for (const fsync of [false, true]) {
      const fileVerifier = new CallVerifier({ replayFile: join(replayDir, `used-jti-${fsync}`), replayFsync: fsync, keys: ed.jwks(now) as never, audience: target.audience });
      rows.push(
        percentiles(
          `upstream: mint + CallVerifier.verify, replay file${fsync ? ' with fsync' : ' (write, no fsync)'}`,
          await timeEachAsync(() => fileVerifier.verify(`Bearer ${edMinter.mint(principal, invocation, ctx, target).token}`, body)),
          floor.p50_us,
        ),
      );
    }
  } finally {
    rmSync(replayDir, { recursive: true, force: true });
  }

  const mint = rows[1]!;
  process.stdout.write(
    `${JSON.stringify({ bench: 'minting', ms_per_case: MS, token_bytes: sample.token.length, target_p99_us: 100, meets_target: mint.p99_us <= 100, rows }, null, 2)}\n`,
  );
  process.stdout.write(
    `\n${rows.map((r) => `${r.name.padEnd(70)} p50 ${String(r.p50_us).padStart(7)} µs  p99 ${String(r.p99_us).padStart(7)} µs  p99.9 ${String(r.p999_us).padStart(7)} µs  ×floor ${r.vs_floor_p50}`).join('\n')}\n`,
  );
}

await main();
