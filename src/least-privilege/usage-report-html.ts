/**
 * `toolgate report usage --html FILE`: one self-contained page — inline CSS, an inline SVG bar
 * chart (per group: granted vs used, for all tools and for write and delete tools apart), the
 * summary table and each group's tools. No script, no external asset: it opens offline and can
 * be attached to a review as it is.
 */
import { percent, type Share, type UsageGroup, type UsageReport } from './usage-report.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d2330; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .2em .7em; border-bottom: 1px solid #dde; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.kind-write { color: #9a5b00; } .kind-delete { color: #b00020; }
.cond { color: #555; font-size: .9em; font-family: ui-monospace, monospace; }
.legend span { display: inline-block; width: 1em; height: .8em; margin: 0 .3em 0 1em; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
`;

const COLOR = { granted: '#c9d3e6', used: { all: '#2f5aa8', write: '#c77800', delete: '#b00020' } };

export function usageHtml(report: UsageReport): string {
  const range = `${report.range.since ?? 'the start'} to ${report.range.until ?? 'now'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>toolgate: tools granted vs used</title>
<style>${CSS}</style></head><body>
<h1>Tools granted vs used, by ${esc(report.by)}</h1>
<p>${esc(range)} · ${report.calls.allowed} calls allowed, ${report.calls.denied} denied${report.calls.expired ? ` · ${report.calls.expired} records past retention not counted` : ''}${report.policySetHash ? ` · policy set <code>${esc(report.policySetHash.slice(0, 19))}…</code>` : ''}</p>
<p>Granted: callable under the policy set for the contexts seen (arguments, session and time of day unknown). Used: granted tools with at least one allowed call.</p>
<p class="legend"><span style="background:${COLOR.granted}"></span>granted<span style="background:${COLOR.used.all}"></span>used (all)<span style="background:${COLOR.used.write}"></span>used (write)<span style="background:${COLOR.used.delete}"></span>used (delete)</p>
${chart(report)}
${summary(report)}
${report.groups.map(groupSection).join('\n')}
</body></html>
`;
}

function chart(report: UsageReport): string {
  const max = Math.max(1, ...report.groups.map((g) => g.all.granted));
  const labelWidth = 170;
  const barWidth = 520;
  const rowHeight = 18;
  const groupHeight = rowHeight * 3 + 14;
  const height = report.groups.length * groupHeight + 10;
  const parts: string[] = [];
  report.groups.forEach((g, i) => {
    const y0 = 5 + i * groupHeight;
    parts.push(`<text x="0" y="${y0 + rowHeight + 4}">${esc(g.key)}</text>`);
    (['all', 'write', 'delete'] as const).forEach((kind, j) => {
      const s = g[kind];
      const y = y0 + j * rowHeight;
      const w = (n: number) => ((n / max) * barWidth).toFixed(1);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end">${kind}</text>`,
        `<rect class="bar-granted" data-group="${esc(g.key)}" data-kind="${kind}" data-count="${s.granted}" x="${labelWidth}" y="${y + 2}" width="${w(s.granted)}" height="${rowHeight - 5}" fill="${COLOR.granted}"/>`,
        `<rect class="bar-used" data-group="${esc(g.key)}" data-kind="${kind}" data-count="${s.used}" x="${labelWidth}" y="${y + 2}" width="${w(s.used)}" height="${rowHeight - 5}" fill="${COLOR.used[kind]}"/>`,
        `<text x="${labelWidth + Number(w(s.granted)) + 6}" y="${y + 12}">${s.used}/${s.granted} ${percent(s)}</text>`,
      );
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="granted vs used per ${esc(report.by)}" width="${labelWidth + barWidth + 90}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 90} ${height}">\n${parts.join('\n')}\n</svg>`;
}

const cell = (s: Share): string => `<td class="n">${s.used}/${s.granted}</td><td class="n">${percent(s)}</td>`;

function summary(report: UsageReport): string {
  const rows = report.groups.map(
    (g) => `<tr><td>${esc(g.key)}${g.idle ? ' <em>(no calls)</em>' : ''}</td><td class="n">${g.contexts}</td>${cell(g.all)}${cell(g.write)}${cell(g.delete)}</tr>`,
  );
  rows.push(`<tr><th>total</th><td></td>${cell(report.total.all)}${cell(report.total.write)}${cell(report.total.delete)}</tr>`);
  return `<table id="summary"><thead><tr><th>${esc(report.by)}</th><th>contexts</th><th>used/granted</th><th>share</th><th>write</th><th>share</th><th>delete</th><th>share</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function groupSection(g: UsageGroup): string {
  const rows = g.tools.map((t) => {
    const conds = [
      ...t.constraints.arguments.map((c) => `arguments · ${c.policy}: ${c.requires}`),
      ...t.constraints.time.map((c) => `time · ${c.policy}: ${c.requires}`),
      ...t.constraints.session.map((c) => `session · ${c.policy}: ${c.requires}`),
    ];
    return `<tr><td>${esc(t.tool)}</td><td class="kind-${t.kind}">${t.kind}</td><td>${t.granted ? (conds.length ? 'if' : 'yes') : 'no'}</td><td class="n">${t.allowed}</td><td class="n">${t.denied}</td><td>${esc(t.firstSeen ?? '-')}</td><td>${esc(t.lastSeen ?? '-')}</td><td class="cond">${conds.map(esc).join('<br>')}</td></tr>`;
  });
  return `<h2>${esc(g.key)}${g.agents.length > 1 || g.agents[0] !== g.key ? ` <small>(agents: ${esc(g.agents.join(', '))})</small>` : ''}</h2>
<table class="tools"><thead><tr><th>tool</th><th>kind</th><th>granted</th><th>allowed</th><th>denied</th><th>first seen</th><th>last seen</th><th>conditions</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}
