import type { ScenarioResult } from './scenario-results.js';

/**
 * An SVG bar chart of latency percentiles: one panel per concurrency, one group of bars (p50,
 * p90, p99) per scenario, on a log scale — the fast paths sit near a tenth of a millisecond and
 * the SDK servers near a hundred, and both must stay readable. Written by hand so the report
 * needs no charting package.
 */
const WIDTH = 960;
const PANEL_HEIGHT = 230;
const MARGIN = { left: 56, right: 16, top: 34, bottom: 40 };
const BARS = [
  { key: 'p50_ms', label: 'p50', color: '#4c78a8' },
  { key: 'p90_ms', label: 'p90', color: '#f58518' },
  { key: 'p99_ms', label: 'p99', color: '#e45756' },
] as const;

export function percentileChart(results: ScenarioResult[], title: string): string {
  const concurrencies = [...new Set(results.map((r) => r.concurrency))].sort((a, b) => a - b);
  const names = [...new Set(results.map((r) => r.name))];
  const height = 40 + concurrencies.length * PANEL_HEIGHT + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  concurrencies.forEach((c, i) => {
    parts.push(
      panel(
        results.filter((r) => r.concurrency === c),
        names,
        c,
        40 + i * PANEL_HEIGHT,
      ),
    );
  });
  let x = MARGIN.left;
  const legendY = height - 14;
  for (const bar of BARS) {
    parts.push(`<rect x="${x}" y="${legendY - 9}" width="12" height="10" fill="${bar.color}"/><text x="${x + 16}" y="${legendY}">${bar.label}</text>`);
    x += 60;
  }
  parts.push(`<text x="${x + 10}" y="${legendY}" fill="#555">latency in ms, log scale; value labels on p50 and p99</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function panel(rows: ScenarioResult[], names: string[], concurrency: number, top: number): string {
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const values = rows.flatMap((r) => [r.p50_ms, r.p99_ms]).filter((v) => Number.isFinite(v) && v > 0);
  const low = Math.floor(Math.log10(Math.min(...values, 1)));
  const high = Math.ceil(Math.log10(Math.max(...values, 1)));
  const span = Math.max(1, high - low);
  const y = (v: number): number => plotTop + plotHeight - ((Math.log10(Math.max(v, 10 ** low)) - low) / span) * plotHeight;
  const out: string[] = [`<text x="${MARGIN.left}" y="${top + 18}" font-size="13" font-weight="bold">concurrency ${concurrency}</text>`];
  for (let d = low; d <= low + span; d++) {
    const v = 10 ** d;
    out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatMs(v)}</text>`);
  }
  const groupWidth = plotWidth / names.length;
  const barWidth = Math.min(22, (groupWidth - 16) / BARS.length);
  names.forEach((name, g) => {
    const row = rows.find((r) => r.name === name);
    const x0 = MARGIN.left + g * groupWidth + (groupWidth - barWidth * BARS.length) / 2;
    if (row) {
      BARS.forEach((bar, b) => {
        const v = row[bar.key];
        if (!Number.isFinite(v) || v <= 0) return;
        const x = x0 + b * barWidth;
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotTop + plotHeight - y(v)).toFixed(1)}" fill="${bar.color}"><title>${escapeXml(`${name} c=${concurrency} ${bar.label}: ${v} ms`)}</title></rect>`,
        );
        if (bar.key !== 'p90_ms')
          out.push(`<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${formatMs(v)}</text>`);
      });
    }
    out.push(`<text x="${(MARGIN.left + (g + 0.5) * groupWidth).toFixed(1)}" y="${plotTop + plotHeight + 16}" text-anchor="middle">${escapeXml(name)}</text>`);
  });
  return out.join('\n');
}

function formatMs(v: number): string {
  if (v === 0) return '0';
  if (v < 0.1) return v.toPrecision(1);
  if (v < 1) return v.toFixed(2);
  if (v < 10) return v.toFixed(1);
  return Math.round(v).toString();
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
