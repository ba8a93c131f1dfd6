/** `toolgate report scopes` as text: per upstream, then per agent, each scope with the allowed calls that needed it. */
import type { ScopeReport, ScopeUse } from './scope-report.js';
import { textTable } from './text-table.js';

const tools = (u: ScopeUse): string => (u.tools.length > 4 ? `${u.tools.slice(0, 4).join(', ')}, … (${u.tools.length})` : u.tools.join(', ') || '-');

export function scopesText(r: ScopeReport): string {
  let out = `Scopes needed by allowed calls from ${r.range.since ?? 'the start'} to ${r.range.until ?? 'now'}: ${r.calls.allowed} calls allowed, ${r.calls.denied} denied\n`;
  for (const u of r.upstreams) {
    out += `\nupstream ${u.upstream}\n`;
    const rows: string[][] = [
      ...u.baseline.map((s) => ['baseline (caller)', s.scope, String(s.calls), tools(s)]),
      ...u.credential.scopes.map((s) => [`credential (${u.credential.mode})`, s.scope, String(s.calls), tools(s)]),
    ];
    if (rows.length === 0) out += '  no baseline scopes and no per-call credential scopes configured\n';
    else out += textTable(['side', 'scope', 'calls', 'tools'], rows, '  ');
    for (const s of u.unneededCredentialScopes) out += `  the service account behind ${u.upstream} can drop ${s}: no allowed call needed it\n`;
    for (const s of u.unneededBaseline) out += `  baseline scope ${s} was not needed: no allowed call reached ${u.upstream}\n`;
  }
  out += '\nagents (needed: a baseline scope of the upstream called, or the @scope of the permit that allowed the call)\n';
  if (r.agents.length === 0) return `${out}  no calls in this range\n`;
  const rows: string[][] = [];
  for (const a of r.agents) {
    for (const n of a.needed) rows.push([a.agent, n.scope, String(n.calls), n.because.join('; ')]);
    for (const s of a.unneeded) rows.push([a.agent, s, '0', 'carried but no allowed call needed it']);
    if (a.needed.length === 0 && a.unneeded.length === 0) rows.push([a.agent, '-', '0', 'no scopes carried, none needed']);
  }
  return out + textTable(['agent', 'scope', 'calls', 'why'], rows, '  ');
}
