/**
 * Hot reload: the policy files (and the pin store) are watched, and SIGHUP forces a reload.
 * Changes are debounced (editors write in several steps); each reload is all-or-nothing
 * (CedarPolicyStage.reload), and sessions are untouched.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export function watchPolicies(paths: string[], reload: () => void, debounceMs = 100): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
    timer.unref();
  };
  // Watching the folder also sees a file replaced by rename (how editors and `tools approve` save).
  for (const dir of new Set(paths.map((p) => (p.endsWith('.cedar') || p.endsWith('.json') ? dirname(p) : p)))) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // A folder that does not exist yet (the pin store's before its first write) is not watched.
    }
  }
  const onHup = (): void => reload();
  process.on('SIGHUP', onHup);
  return () => {
    clearTimeout(timer);
    process.off('SIGHUP', onHup);
    for (const w of watchers) w.close();
  };
}
