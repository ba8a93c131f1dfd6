import { readFileSync } from 'node:fs';

/**
 * toolgate's version, as package.json states it: read once, so a release changes one place.
 * This file runs from src/ (under tsx) and from dist/src/ (built, or installed in node_modules),
 * so package.json is one or two folders up; the first one naming this package is ours.
 */
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    let manifest: { name?: unknown; version?: unknown };
    try {
      manifest = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    if (manifest.name === 'toolgate' && typeof manifest.version === 'string') return manifest.version;
  }
  throw new Error('toolgate: package.json not found next to this installation');
}

export const VERSION = packageVersion();
