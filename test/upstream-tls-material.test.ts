/**
 * Reading an upstream's TLS files belongs to its transport: a missing file or a certificate
 * without its key is refused with code ERR_UPSTREAM_TLS, naming the upstream and the file, and
 * nothing is read when the upstream has no tls section.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ToolgateError } from '../src/errors.js';
import { readUpstreamTls, UpstreamTlsError } from '../src/upstream/transport/tls-material.js';

describe('upstream TLS material', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-tls-material-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'ca bytes');

  test('no tls section: nothing to read', () => {
    assert.equal(readUpstreamTls('crm', undefined), undefined);
  });

  test('reads the files it is given', () => {
    const material = readUpstreamTls('crm', { ca });
    assert.equal(material?.ca?.toString(), 'ca bytes');
    assert.equal(material?.cert, undefined);
  });

  test('a file that cannot be read is ERR_UPSTREAM_TLS, naming the upstream and the file', () => {
    const missing = join(dir, 'absent.pem');
    assert.throws(
      () => readUpstreamTls('crm', { ca: missing }),
      (err: unknown) => {
        assert.ok(err instanceof UpstreamTlsError && err instanceof ToolgateError);
        assert.equal(err.code, 'ERR_UPSTREAM_TLS');
        assert.equal(err.upstream, 'crm');
        assert.match(err.message, new RegExp(`^cannot read the CA bundle ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
        return true;
      },
    );
  });

  test('a client certificate without its key is refused', () => {
    assert.throws(() => readUpstreamTls('crm', { cert: ca }), { code: 'ERR_UPSTREAM_TLS', message: 'tls needs both cert and key for a client certificate' });
  });
});
