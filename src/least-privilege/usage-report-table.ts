/**
 * `toolgate report usage` as text: one summary line per group (granted, used, share; write and
 * delete apart), a total, then each group's tools with counts, first/last seen and the policy
 * conditions a grant carries (argument constraints, time windows).
 */
import { textTable } from './text-table.js';
import { percent, type Share, type UsageGroup, type UsageReport } from './usage-report.js';

const ratio = (s: Share): string => `${s.used}/${s.granted} ${percent(s)}`;

export function usageText(report: UsageReport): string {
  const range = `${report.range.since ?? 'the start'} to ${report.range.until ?? 'now'}`;
  let out = `Tool usage from ${range}, by ${report.by}: ${report.calls.allowed} calls allowed, ${report.calls.denied} denied`;
  out += report.calls.expired > 0 ? ` (${report.calls.expired} decision records past retention not counted)\n` : '\n';
  out += 'granted: callable under the policy set for the contexts seen (arguments, session and time of day unknown)\n';
  out += 'used: granted tools with at least one allowed call\n\n';
  if (report.groups.length === 0) return `${out}no tool calls in this range and no agents in the config\n`;
  const rows = report.groups.map((g) => [
    g.key + (g.idle ? ' (no calls)' : ''),
    String(g.contexts),
    String(g.all.granted),
    String(g.all.used),
    percent(g.all),
    ratio(g.write),
    ratio(g.delete),
  ]);
  rows.push(['total', '', String(report.total.all.granted), String(report.total.all.used), percent(report.total.all), ratio(report.total.write), ratio(report.total.delete)]);
  out += textTable([report.by, 'contexts', 'granted', 'used', 'share', 'write used', 'delete used'], rows);
  for (const g of report.groups) out += `\n${groupText(g)}`;
  return out;
}

function groupText(g: UsageGroup): string {
  let out = `${g.key}${g.agents.length > 1 || g.agents[0] !== g.key ? ` (agents: ${g.agents.join(', ')})` : ''}${g.idle ? ': no calls in range; granted from policy.agents' : ''}\n`;
  if (g.allowedNotGranted > 0) out += `  ${g.allowedNotGranted} tool(s) had allowed calls but are not granted by the current policy set\n`;
  const rows: Array<string[] | string> = [];
  for (const t of g.tools) {
    const conditional = t.constraints.arguments.length + t.constraints.time.length + t.constraints.session.length > 0;
    rows.push([t.tool, t.kind, t.granted ? (conditional ? 'if' : 'yes') : 'no', String(t.allowed), String(t.denied), t.firstSeen ?? '-', t.lastSeen ?? '-']);
    for (const c of t.constraints.arguments) rows.push(`    arguments ${c.policy}: ${c.requires}`);
    for (const c of t.constraints.time) rows.push(`    time      ${c.policy}: ${c.requires}`);
    for (const c of t.constraints.session) rows.push(`    session   ${c.policy}: ${c.requires}`);
  }
  return out + textTable(['tool', 'kind', 'granted', 'allowed', 'denied', 'first seen', 'last seen'], rows, '  ');
}
