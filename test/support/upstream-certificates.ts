/**
 * Certificates generated for one test run with the openssl CLI: a CA, a server certificate for
 * 127.0.0.1 signed by it, a client certificate signed by it, and a second, unrelated CA with its
 * own server certificate (for "untrusted server" cases). PEM text plus the files' paths.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface UpstreamCertificates {
  dir: string;
  ca: Pem;
  server: Pem;
  client: Pem;
  otherCa: Pem;
  /** Signed by otherCa: a server the gateway must not trust. */
  untrustedServer: Pem;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function read(dir: string, name: string): Pem {
  return {
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certPath: join(dir, `${name}.crt`),
    keyPath: join(dir, `${name}.key`),
  };
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function makeLeaf(dir: string, name: string, ca: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

export function generateUpstreamCertificates(): UpstreamCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-upstream-tls-'));
  const write = (name: string, text: string) => execFileSync('sh', ['-c', `cat > ${name}`], { cwd: dir, input: text });
  write('server.ext', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  write('untrusted-server.ext', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  write('toolgate.ext', 'extendedKeyUsage=clientAuth\n');
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeLeaf(dir, 'server', 'ca');
  makeLeaf(dir, 'toolgate', 'ca');
  makeLeaf(dir, 'untrusted-server', 'other-ca');
  return {
    dir,
    ca: read(dir, 'ca'),
    server: read(dir, 'server'),
    client: read(dir, 'toolgate'),
    otherCa: read(dir, 'other-ca'),
    untrustedServer: read(dir, 'untrusted-server'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
