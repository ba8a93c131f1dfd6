/**
 * `toolgate policy promote`: the config's `policy.shadow` set becomes the enforced set. Refused
 * when, in the range (default: since the current shadow set was first seen in the audit log),
 * the shadow set would have denied a call the enforced set allowed — unless forced. Both sets
 * are validated against the live schema first; the enforced files are backed up to a
 * timestamped folder beside them, then replaced. A running gateway's watcher (watch.ts) reloads
 * them; a reload that fails keeps the old set in force.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { ToolgateError } from '../errors.js';
import { policyFiles, readPolicies } from '../policy/source.js';
import { NoPolicySection, openWorkbench } from '../policy/workbench.js';
import { compareShadow, type ShadowComparison, wouldBreak } from './disagreements.js';
import type { ObservedCall } from './observed.js';

/** A promotion the operator has to decide about (exit 1), with the reason. */
export class PromotionRefused extends ToolgateError {
  constructor(message: string) {
    super('ERR_PROMOTION_REFUSED', message);
  }
}

/** Nothing to promote, or a layout promote cannot replace (exit 2). */
export class NoShadowSet extends ToolgateError {
  constructor(message: string) {
    super('ERR_NO_SHADOW', message);
  }
}

export interface Promotion {
  from: { hash: string; policies: number };
  to: { hash: string; policies: number };
  backup: string;
  target: string;
  added: string[];
  removed: string[];
  comparison: ShadowComparison;
  forced: boolean;
}

/** `calls`: the decisions of the range the shadow evidence is judged on. */
export async function promoteShadow(config: GatewayConfig, calls: ObservedCall[], o: { force?: boolean; now?: Date } = {}): Promise<Promotion> {
  if (!config.policy) throw new NoPolicySection(config.source);
  const { files, shadowFiles } = config.policy;
  if (shadowFiles.length === 0)
    throw new NoShadowSet(`${config.source} has no policy.shadow: there is no candidate set to promote (add policy.shadow: <files> and run traffic with it first)`);
  const target = files.length === 1 ? files[0]! : undefined;
  if (!target || !existsSync(target)) throw new NoShadowSet(`policy.files must be one folder or one file for promote to replace it (it is ${files.join(', ')})`);
  // Validates both sets against the live schema; their hashes are what the audit log recorded.
  const bench = await openWorkbench(config);
  const status = bench.stage.status();
  await bench.close();
  const shadowHash = status.shadowPolicySetHash!;
  const comparison = compareShadow(calls, shadowHash);
  if (!o.force) {
    if (comparison.evaluated === 0)
      throw new PromotionRefused(`no decision in the range was evaluated by the shadow set ${shadowHash}: run traffic with it as policy.shadow first (or pass --force)`);
    const breaks = wouldBreak(comparison);
    if (breaks.length > 0) {
      const list = breaks.map((g) => `  ${g.agent} → ${g.tool}: ${g.count} call${g.count === 1 ? '' : 's'} (${g.first} … ${g.last}; e.g. ${g.examples[0]})`).join('\n');
      throw new PromotionRefused(
        `the shadow set would have denied ${breaks.reduce((n, g) => n + g.count, 0)} calls the enforced set allowed:\n${list}\nfix the shadow set, or pass --force to promote anyway`,
      );
    }
  }
  const before = readPolicies(files);
  const stamp = (o.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const isDir = statSync(target).isDirectory();
  let backup = join(dirname(target), `${basename(target)}.backup-${stamp}`);
  for (let n = 2; existsSync(backup); n++) backup = join(dirname(target), `${basename(target)}.backup-${stamp}-${n}`);
  mkdirSync(backup);
  const current = isDir ? policyFiles([target]) : [target];
  for (const f of current) copyFileSync(f, join(backup, basename(f)));
  const incoming = policyFiles(shadowFiles);
  if (isDir) replaceFolder(target, incoming, current);
  else replaceFile(target, incoming);
  const after = readPolicies(files);
  const beforeIds = new Set(before.map((p) => p.id));
  const afterIds = new Set(after.map((p) => p.id));
  return {
    from: { hash: status.policySetHash!, policies: before.length },
    to: { hash: shadowHash, policies: after.length },
    backup,
    target,
    added: [...afterIds].filter((id) => !beforeIds.has(id)),
    removed: [...beforeIds].filter((id) => !afterIds.has(id)),
    comparison,
    forced: !!o.force,
  };
}

/**
 * New files are first written under names the loader ignores, then old ones removed and the new
 * ones renamed into place, so the watcher's debounced reload sees the folder at rest (a reload
 * that does catch it midway and fails validation keeps the previous set in force).
 */
function replaceFolder(dir: string, incoming: string[], current: string[]): void {
  const names = new Map<string, string>();
  incoming.forEach((f, i) => {
    const name = names.has(basename(f)) ? `${i}-${basename(f)}` : basename(f);
    names.set(name, f);
  });
  for (const [name, from] of names) writeFileSync(join(dir, `.${name}.promoting`), readFileSync(from));
  for (const f of current) if (!names.has(basename(f))) rmSync(f);
  for (const name of names.keys()) renameSync(join(dir, `.${name}.promoting`), join(dir, name));
  for (const f of readdirSync(dir)) if (f.endsWith('.promoting')) rmSync(join(dir, f));
}

function replaceFile(file: string, incoming: string[]): void {
  const text = incoming.map((f) => `// from ${f}\n${readFileSync(f, 'utf8')}`).join('\n');
  writeFileSync(`${file}.promoting`, text);
  renameSync(`${file}.promoting`, file);
}

export function renderPromotion(p: Promotion): string {
  const restore = statSync(p.target).isDirectory()
    ? `rm ${join(p.target, '*.cedar')} && cp ${join(p.backup, '*.cedar')} ${p.target}/`
    : `cp ${join(p.backup, basename(p.target))} ${p.target}`;
  return [
    `promoted${p.forced ? ' (forced)' : ''}: ${p.target} now holds the shadow set`,
    `  enforced ${p.from.policies} policies (${p.from.hash})`,
    `        → ${p.to.policies} policies (${p.to.hash})`,
    `  ${p.added.length} policies added, ${p.removed.length} removed${p.removed.length ? `: ${p.removed.join(', ')}` : ''}`,
    `  shadow evidence: ${p.comparison.evaluated} decisions, ${p.comparison.agreed} agreed, ${wouldBreak(p.comparison).reduce((n, g) => n + g.count, 0)} would break`,
    `  backup of the previous files: ${p.backup}`,
    `a running gateway reloads the files within a second (or on SIGHUP); GET /admin/status shows policy.policySetHash = ${p.to.hash}`,
    `policy.shadow still names the promoted set; point it at the next candidate or remove it`,
    `roll back: ${restore}`,
    '',
  ].join('\n');
}
