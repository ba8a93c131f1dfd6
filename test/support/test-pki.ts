/**
 * Certificates made for one test run with the openssl CLI: a CA, a second unrelated CA, a
 * server certificate for 127.0.0.1/localhost, and client certificates (valid, expired, from
 * the other CA). `openssl ca` is used where dates in the past are needed (OpenSSL 3.0's
 * `x509 -req` cannot set notBefore).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  server: Pem;
  client(name: string, options?: { sanUri?: string; expired?: boolean; otherCa?: boolean }): Pem;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-pki-'));
  const makeCa = (name: string): void => {
    openssl(
      [
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
        `${name}.pem`,
        '-days',
        '2',
        '-subj',
        `/O=Toolgate Test/CN=${name}`,
      ],
      dir,
    );
    mkdirSync(join(dir, `${name}-db`, 'new'), { recursive: true });
    writeFileSync(join(dir, `${name}-db`, 'index.txt'), '');
    writeFileSync(join(dir, `${name}-db`, 'serial'), '1000\n');
    writeFileSync(
      join(dir, `${name}.cnf`),
      `[ca]\ndefault_ca = d\n[d]\ndir = ${join(dir, `${name}-db`)}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/new\nserial = $dir/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\norganizationName = optional\n`,
    );
  };
  makeCa('ca');
  makeCa('other-ca');

  const issue = (name: string, subject: string, ext: string, ca: string, dates: string[]): Pem => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        `${ca}.cnf`,
        '-cert',
        `${ca}.pem`,
        '-keyfile',
        `${ca}.key`,
        '-in',
        `${name}.csr`,
        '-out',
        `${name}.pem`,
        '-extfile',
        `${name}.ext`,
        ...dates,
      ],
      dir,
    );
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  };

  const server = issue('server', '/O=Toolgate Test/CN=toolgate.test', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', 'ca', ['-days', '2']);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    server,
    client(name, options = {}) {
      const ext = `extendedKeyUsage=clientAuth\n${options.sanUri ? `subjectAltName=URI:${options.sanUri}\n` : ''}`;
      const dates = options.expired ? ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'] : ['-days', '2'];
      return issue(name, `/O=Acme/CN=${name}`, ext, options.otherCa ? 'other-ca' : 'ca', dates);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
