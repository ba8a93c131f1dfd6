/**
 * The import rules of the request path, checked by `npm run layers` (and `npm test`).
 *
 * Layers, highest first; a file may import its own folder, any lower layer, or a foundation:
 *   cli → assembly (src/*.ts) → least-privilege → listener → mcp → pipeline → stages
 *   (identity, policy, credentials, audit: siblings that never import each other) → upstream → catalog
 * Foundations, importable from anywhere and importing only each other: protocol, config (and each
 * stage's own config section), the stage seams (pipeline/stages.ts and friends), metrics (the
 * sink the stages report to, like the audit sink), log, errors and the verifier package.
 */
const STAGE_CONFIG = '^src/(identity|policy|credentials|audit)/(?:config|settings)\\.ts$';
const FOUNDATION = [
  '^src/protocol/',
  '^src/config/',
  STAGE_CONFIG,
  '^src/pipeline/(stages|rejections|pass-through)\\.ts$',
  '^src/(log|errors|version)\\.ts$',
  '^src/metrics/',
  '^packages/verify/',
];
const LAYERS = [
  ['cli', '^src/cli/'],
  ['assembly', '^src/[^/]+\\.ts$'],
  ['least-privilege', '^src/least-privilege/'],
  ['listener', '^src/listener/'],
  ['mcp', '^src/mcp/'],
  ['pipeline', '^src/pipeline/'],
  ['stages', '^src/(identity|policy|credentials|audit)/'],
  ['upstream', '^src/upstream/'],
  ['catalog', '^src/catalog/'],
];

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'No file reaches itself through its imports.',
    from: { path: '^(src|packages)/' },
    to: { circular: true },
  },
  {
    name: 'foundations-stay-down',
    severity: 'error',
    comment: 'A foundation imports only other foundations (and packages).',
    from: { path: FOUNDATION, pathNot: STAGE_CONFIG },
    to: { path: '^src/', pathNot: FOUNDATION },
  },
  {
    name: 'stage-config-stays-down',
    severity: 'error',
    comment: "A stage's config section imports foundations and its own stage's vocabulary, nothing above.",
    from: { path: STAGE_CONFIG },
    to: { path: '^src/', pathNot: ['^src/$1/', ...FOUNDATION] },
  },
  {
    name: 'stages-are-siblings',
    severity: 'error',
    comment: 'identity, policy, credentials and audit do not import each other: the pipeline joins them.',
    from: { path: '^src/(identity|policy|credentials|audit)/', pathNot: FOUNDATION },
    to: { path: '^src/(identity|policy|credentials|audit)/', pathNot: ['^src/$1/', ...FOUNDATION] },
  },
];
LAYERS.forEach(([name, path], i) => {
  const higher = LAYERS.slice(0, i).map(([, p]) => p);
  if (higher.length === 0) return;
  forbidden.push({
    name: `${name}-imports-no-higher-layer`,
    severity: 'error',
    comment: `${name} may import only its own folder, lower layers and foundations.`,
    from: { path, pathNot: FOUNDATION },
    to: { path: higher, pathNot: [path, ...FOUNDATION] },
  });
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|packages)/',
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
