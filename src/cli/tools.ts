/**
 * `toolgate tools list|approve --config FILE`: tool-definition pinning from the command line.
 * Connects to the configured upstreams (no listener), compares each tool's live definition with
 * its pin, and records approvals in the pin store; a running gateway picks the new pins up (it
 * watches the store; SIGHUP also reloads).
 */
import { parseArgs } from 'node:util';
import { type PinStatus, PinStore, pinKey } from '../catalog/pinning.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig, UpstreamConfig } from '../config/types.js';
import { UpstreamRegistry } from '../upstream/registry.js';
import { asksForHelp } from './usage.js';

const USAGE = 'usage: toolgate tools list --config FILE\n       toolgate tools approve --config FILE (--all | UPSTREAM/TOOL ... | EXPOSED_NAME ...)\n';

interface LiveTool {
  upstream: string;
  tool: string;
  exposed: string;
  definition: Record<string, unknown>;
  status: PinStatus;
}

export async function runTools(args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  if (asksForHelp(args)) {
    out(USAGE);
    return 0;
  }
  const [sub, ...rest] = args;
  const options = { config: { type: 'string', short: 'c' }, all: { type: 'boolean' } } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`toolgate tools: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if ((sub !== 'list' && sub !== 'approve') || !values.config) {
    process.stderr.write(USAGE);
    return 2;
  }
  let config: GatewayConfig;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`toolgate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const pinning = config.policy?.pinning;
  if (!pinning) {
    process.stderr.write('toolgate tools: the config has no policy.pinning section; nothing is pinned\n');
    return 2;
  }
  const store = new PinStore(pinning.store);
  const tools = await liveTools(config.upstreams, store);
  if (sub === 'list') {
    for (const t of tools) out(`${t.status.padEnd(9)} ${pinKey(t.upstream, t.tool)}  (${t.exposed})\n`);
    out(`${tools.length} tools; pin store ${pinning.store}\n`);
    return 0;
  }
  const wanted = new Set(positionals);
  const chosen = values.all ? tools.filter((t) => t.status !== 'approved') : tools.filter((t) => wanted.has(pinKey(t.upstream, t.tool)) || wanted.has(t.exposed));
  const unknown = [...wanted].filter((w) => !tools.some((t) => pinKey(t.upstream, t.tool) === w || t.exposed === w));
  if (unknown.length > 0) {
    process.stderr.write(`toolgate tools approve: no such tool upstream now: ${unknown.join(', ')}\n`);
    return 1;
  }
  if (chosen.length === 0) {
    process.stderr.write(values.all ? 'toolgate tools approve: nothing to approve\n' : USAGE);
    return values.all ? 0 : 2;
  }
  store.approve(chosen.map((t) => ({ upstream: t.upstream, tool: t.tool, definition: t.definition })));
  for (const t of chosen) out(`approved  ${pinKey(t.upstream, t.tool)} (was ${t.status})\n`);
  return 0;
}

async function liveTools(upstreams: UpstreamConfig[], store: PinStore): Promise<LiveTool[]> {
  const registry = new UpstreamRegistry(upstreams, { catalogChanged() {}, resourceUpdated() {}, log: (level, m) => level !== 'info' && process.stderr.write(`${m}\n`) });
  try {
    await registry.start();
    return [...registry.catalog.entries('tools')].map((e) => {
      const definition = { ...e.item, name: e.original } as Record<string, unknown>;
      return { upstream: e.upstream, tool: e.original, exposed: e.exposed, definition, status: store.status(e.upstream, e.original, definition) };
    });
  } finally {
    await registry.close();
  }
}
