import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type DevIssuerFile, readDevIssuer, signDevToken } from '../identity/dev-issuer.js';
import { asksForHelp } from './usage.js';

/** The demo world's users and their tenants (examples/README.md), so `--tenant` can be left out. */
export const DEMO_USERS: Record<string, string> = { alice: 'acme', bob: 'acme', carol: 'globex' };

const USAGE = 'usage: toolgate token --agent ID [--user ID] [--scope "a b"] [--tenant ID] [--ttl SECONDS] [--issuer-file FILE]';

/**
 * `toolgate token`: prints an access token from the development issuer — the key `toolgate demo`
 * (or a config with `auth.dev_issuer: true`) created in .toolgate/dev-issuer.json, for the
 * audience that gateway wrote there. For trying the gateway out; never a production issuer.
 *
 * @example
 * toolgate token --agent sales-bot --user alice --scope "crm.read crm.write"
 */
export async function runToken(args: string[]): Promise<number> {
  if (asksForHelp(args)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = {
    agent: { type: 'string' },
    user: { type: 'string' },
    scope: { type: 'string', default: '' },
    tenant: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    'issuer-file': { type: 'string', default: '.toolgate/dev-issuer.json' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args, options, strict: true }));
  } catch (err) {
    process.stderr.write(`toolgate token: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!values.agent || !Number.isInteger(ttl) || ttl <= 0) {
    process.stderr.write(`toolgate token: ${values.agent ? '--ttl must be a positive number of seconds' : '--agent is required'}\n${USAGE}\n`);
    return 2;
  }
  const path = resolve(values['issuer-file']);
  let file: DevIssuerFile;
  try {
    file = readDevIssuer(path);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    process.stderr.write(
      `toolgate token: ${missing ? `${path} does not exist; start \`toolgate demo\` (or a gateway with auth.dev_issuer: true) in this directory first` : (err as Error).message}\n`,
    );
    return 1;
  }
  const tenant = values.tenant ?? (values.user ? DEMO_USERS[values.user] : undefined);
  try {
    const token = await signDevToken(file, {
      agent: values.agent,
      ...(values.user ? { user: values.user } : {}),
      ...(tenant ? { tenant } : {}),
      scopes: values.scope.split(/\s+/).filter(Boolean),
      ttlSeconds: ttl,
    });
    process.stdout.write(`${token}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`toolgate token: ${(err as Error).message}\n`);
    return 1;
  }
}

/** How to run this CLI again from the current directory (for printed hints). */
export function cliCommand(): string {
  const entry = process.argv[1];
  if (!entry?.endsWith('.js')) return 'npx toolgate';
  return `node ${relative(process.cwd(), entry) || entry}`;
}
