import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A gateway state folder (audit.db, keys, pins…) under the system temp folder. A test that starts
 * a gateway or the CLI passes it as `home` / TOOLGATE_HOME: without one the state folder is
 * `.toolgate` in the current directory, i.e. the working copy.
 */
export function tempHome(prefix = 'toolgate-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
