/**
 * Authentication cost per request with a warm JWKS (the issuer's keys already fetched from a
 * local HTTP JWKS endpoint): the identity stage alone, no HTTP in front of it.
 *
 *   node --import tsx bench/micro/identity.ts [--n 5000]
 *
 * Rows: a token already verified (cache hit by SHA-256 of the token — target p99 < 100 µs),
 * a first verification of a fresh token (signature + claims — target p99 < 300 µs) for
 * RS256, ES256 and EdDSA, and for scale the bare SHA-256 of a token (the cache key) and the
 * anonymous stage. Each call is timed on its own, so p99 is per request, not per batch.
 */

import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { parseConfig } from '../../src/config/load.js';
import { BearerAuthenticator } from '../../src/identity/authenticator.js';
import { keySourceFor } from '../../src/identity/key-source.js';
import { ProtectedResource } from '../../src/identity/protected-resource.js';
import { VerifiedTokenCache } from '../../src/identity/token-cache.js';
import { anonymousIdentity, MemoryAuditSink } from '../../src/pipeline/pass-through.js';
import { type IdentityStage, isRejection } from '../../src/pipeline/stages.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '5000' } } });
const N = Number(values.n);
const RESOURCE = 'http://127.0.0.1:7420/mcp';
const ALGS = [
  { alg: 'RS256', gen: ['RS256', {}] },
  { alg: 'ES256', gen: ['ES256', {}] },
  { alg: 'EdDSA', gen: ['EdDSA', { crv: 'Ed25519' }] },
] as const;

interface Row {
  case: string;
  p50_us: number;
  p99_us: number;
  mean_us: number;
}

function summary(name: string, ns: number[]): Row {
  const s = [...ns].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(s.length * q))]! / 1000;
  return { case: name, p50_us: round(at(0.5)), p99_us: round(at(0.99)), mean_us: round(s.reduce((a, b) => a + b, 0) / s.length / 1000) };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function request(token: string): IncomingMessage {
  return { url: '/mcp', method: 'POST', headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
}

async function time(stage: IdentityStage, reqs: IncomingMessage[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of reqs) {
    const t0 = process.hrtime.bigint();
    const p = await stage.authenticate(r);
    out.push(Number(process.hrtime.bigint() - t0));
    if (isRejection(p)) throw new Error(`rejected: ${p.reason}`);
  }
  return out;
}

async function main(): Promise<void> {
  const keys: Array<{ alg: string; privateKey: CryptoKey; kid: string }> = [];
  const jwks: unknown[] = [];
  for (const a of ALGS) {
    const pair = await generateKeyPair(a.gen[0], { ...a.gen[1], extractable: true });
    keys.push({ alg: a.alg, privateKey: pair.privateKey, kid: `k-${a.alg}` });
    jwks.push({ ...(await exportJWK(pair.publicKey)), kid: `k-${a.alg}`, alg: a.alg });
  }
  let fetches = 0;
  const jwksServer = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;
  const issuer = 'https://issuer.bench';
  // The defaults the gateway would apply (parsed as any config is), with a larger verified-token cache.
  const config = parseConfig(
    `auth:\n  issuers:\n    - issuer: ${issuer}\n      jwks_uri: ${jwksUri}\n      algorithms: [RS256, ES256, EdDSA]\n  cache_max_entries: 100000\nupstreams:\n  - id: bench\n    url: http://127.0.0.1:9/mcp\n`,
    'bench identity config',
    {},
  ).auth!;
  const resource = new ProtectedResource({ authorizationServers: [issuer], scopesSupported: ['crm.read'], certificateBound: false });
  resource.bind(RESOURCE);
  const stage = new BearerAuthenticator({
    config,
    issuers: config.issuers.map((i) => ({ config: i, keys: keySourceFor(i, { cooldownMs: 30_000 }) })),
    resource,
    certificateRules: [],
    audit: new MemoryAuditSink(),
  });

  let jti = 0;
  const sign = (k: (typeof keys)[number]): Promise<string> =>
    new SignJWT({ client_id: 'sales-bot', scope: 'crm.read crm.write', tenant: 'acme' })
      .setProtectedHeader({ alg: k.alg, typ: 'at+jwt', kid: k.kid })
      .setIssuer(issuer)
      .setAudience(RESOURCE)
      .setSubject('alice')
      .setJti(`j-${jti++}`)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(k.privateKey);

  // Warm the JWKS and the JIT.
  for (const k of keys) await time(stage, await Promise.all(Array.from({ length: 200 }, () => sign(k)).map(async (t) => request(await t))));

  const rows: Row[] = [];
  const cachedToken = await sign(keys[1]!);
  rows.push(
    summary(
      'cached (token already verified)',
      await time(
        stage,
        Array.from({ length: N }, () => request(cachedToken)),
      ),
    ),
  );
  for (const k of keys) {
    const fresh = await Promise.all(Array.from({ length: Math.min(N, 3000) }, () => sign(k)));
    rows.push(summary(`first verification ${k.alg}`, await time(stage, fresh.map(request))));
  }
  const hashNs: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    VerifiedTokenCache.keyOf(cachedToken);
    hashNs.push(Number(process.hrtime.bigint() - t0));
  }
  rows.push(summary('baseline: SHA-256 of the token (cache key)', hashNs));
  rows.push(
    summary(
      'baseline: anonymous stage (no auth)',
      await time(
        anonymousIdentity,
        Array.from({ length: N }, () => request(cachedToken)),
      ),
    ),
  );

  jwksServer.close();
  console.log(`identity stage, ${N} calls per row, token ${cachedToken.length} bytes, JWKS fetches: ${fetches} (warm: fetched once)\n`);
  console.log('| case | p50 µs | p99 µs | mean µs |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.case} | ${r.p50_us} | ${r.p99_us} | ${r.mean_us} |`);
  console.log(`\n${JSON.stringify({ bench: 'identity', n: N, jwks_fetches: fetches, rows })}`);
}

await main();
