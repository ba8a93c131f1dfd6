import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A V8 .cpuprofile as written by `node --cpu-prof`. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeEntry {
  function: string;
  /** file:line, relative to the repository for our own code; node:internal… and (program)/(garbage collector) as V8 names them. */
  location: string;
  self_ms: number;
  /** Share of the busy (non-idle) time. */
  self_pct: number;
}

export interface ProfileSummary {
  sampled_ms: number;
  busy_ms: number;
  idle_pct: number;
  top_functions: SelfTimeEntry[];
  /** Self time grouped by where the code lives: toolgate's src files, undici, node internals, GC… */
  by_area: Array<{ area: string; self_ms: number; self_pct: number }>;
}

/**
 * Self time per function from a CPU profile: each sample's time delta is charged to the
 * function on top of the stack. Idle time is reported separately and left out of percentages;
 * samples inside node:inspector (the harness stopping the profiler) are left out altogether.
 */
export function summariseProfile(path: string, repoRoot: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const profilerOwn = profilerFrames(profile);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (profilerOwn.has(id)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const perFunction = new Map<string, { fn: string; location: string; us: number; area: string }>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const location = locationOf(frame, repoRoot);
    const fn = frame.functionName || '(anonymous)';
    const key = `${fn}@${location}`;
    const entry = perFunction.get(key) ?? { fn, location, us: 0, area: areaOf(frame, repoRoot) };
    entry.us += us;
    perFunction.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number): number => Math.round((us / busyUs) * 1000) / 10;
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const entries = [...perFunction.values()].sort((a, b) => b.us - a.us);
  const areas = new Map<string, number>();
  for (const e of entries) areas.set(e.area, (areas.get(e.area) ?? 0) + e.us);
  return {
    sampled_ms: ms(totalUs),
    busy_ms: ms(busyUs),
    idle_pct: Math.round((idleUs / totalUs) * 1000) / 10,
    top_functions: entries.slice(0, top).map((e) => ({ function: e.fn, location: e.location, self_ms: ms(e.us), self_pct: pct(e.us) })),
    by_area: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, self_ms: ms(us), self_pct: pct(us) })),
  };
}

/** Nodes under a node:inspector call: the harness stopping the profiler, not the gateway's work. */
function profilerFrames(profile: CpuProfile): Set<number> {
  const out = new Set<number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const mark = (id: number): void => {
    if (out.has(id)) return;
    out.add(id);
    for (const child of byId.get(id)?.children ?? []) mark(child);
  };
  for (const n of profile.nodes) if (n.callFrame.url === 'node:inspector') mark(n.id);
  return out;
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** file:line; compiled files of ours are mapped back to their TypeScript source through the .map beside them. */
function locationOf(frame: CallFrame, repoRoot: string): string {
  if (!frame.url) return '';
  const original = frame.url.startsWith('file://') ? originalPosition(new URL(frame.url).pathname, frame) : undefined;
  if (original) return `${shortPath(`file://${original.path}`, repoRoot)}:${original.line}`;
  return `${shortPath(frame.url, repoRoot)}:${frame.lineNumber + 1}`;
}

function originalPosition(path: string, frame: CallFrame): { path: string; line: number } | undefined {
  if (path.includes('/node_modules/')) return undefined;
  if (!sourceMaps.has(path)) {
    const mapPath = `${path}.map`;
    sourceMaps.set(path, existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : undefined);
  }
  const entry = sourceMaps.get(path)?.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber)) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined) return undefined;
  const source = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : resolve(dirname(path), entry.originalSource);
  return { path: source, line: entry.originalLine + 1 };
}

/** Repository-relative for our files; from `node_modules/` on for packages, wherever they are installed. */
function shortPath(url: string, repoRoot: string): string {
  if (!url.startsWith('file://')) return url;
  const path = new URL(url).pathname;
  const packages = path.lastIndexOf('/node_modules/');
  return packages >= 0 ? path.slice(packages + 1) : relative(repoRoot, path);
}

/** Where a function lives, coarse enough to add up: a toolgate file, a package, node, or V8 itself. */
function areaOf(frame: CallFrame, repoRoot: string): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? `V8 ${frame.functionName}` : 'native';
  // The only WebAssembly in the gateway process is undici's HTTP parser (llhttp).
  if (frame.url.startsWith('wasm://')) return 'wasm (undici llhttp parser)';
  if (frame.url.startsWith('node:')) return 'node internals';
  const path = locationOf(frame, repoRoot).replace(/:\d+$/, '');
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return `package ${pkg[1]}`;
  return path;
}
