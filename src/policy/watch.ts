/**
 * Hot reload: the policy files (and the pin store) are watched, and SIGHUP forces a reload.
 * Changes are debounced (editors write in several steps); each reload is all-or-nothing
 * (CedarPolicyStage.reload), and sessions are untouched.
 *
 * A folder is watched rather than a file, so a file replaced by rename (how editors and
 * `tools approve` save) is still seen; only events for the watched files (or, in a policy folder,
 * `.cedar` files) count. The pin store usually shares `.toolgate/` with the audit database,
 * whose every write must not recompile the policy set.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export function watchPolicies(paths: string[], reload: () => void, debounceMs = 100): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
    timer.unref();
  };
  // Folder → the file names in it that matter, and whether every .cedar file in it does.
  const folders = new Map<string, { names: Set<string>; cedar: boolean }>();
  const folder = (dir: string): { names: Set<string>; cedar: boolean } => {
    let f = folders.get(dir);
    if (!f) {
      f = { names: new Set(), cedar: false };
      folders.set(dir, f);
    }
    return f;
  };
  for (const p of paths) {
    if (p.endsWith('.cedar') || p.endsWith('.json')) folder(dirname(p)).names.add(basename(p));
    else folder(p).cedar = true;
  }
  for (const [dir, { names, cedar }] of folders) {
    const relevant = (filename: string | null): boolean => {
      // Without a name (some platforms) the event cannot be placed: reload to be safe.
      if (filename === null) return true;
      const name = basename(filename);
      return names.has(name) || (cedar && name.endsWith('.cedar'));
    };
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        if (relevant(filename)) schedule();
      });
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
