import { statSync } from 'node:fs';
import type { CredentialsConfig } from '../config/types.js';
import type { KeyRing } from './key-ring.js';
import { loadKeyRing, readKeyFile } from './key-store.js';

/** How often a key file is checked for a rotation (`toolgate keys rotate` rewrites it). */
const RECHECK_MS = 5_000;

/**
 * The current key ring. A key file is re-read when it changes, so a rotation takes effect in a
 * running gateway within seconds; the check is one stat() every few seconds, off the per-call
 * cost. A file that became unreadable keeps the ring in force (and the error is reported once).
 */
export class KeyHolder {
  private ring: KeyRing;
  private mtimeMs = 0;
  private nextCheck = 0;

  constructor(
    private readonly config: CredentialsConfig,
    private readonly now: () => number,
    private readonly onReloadError: (message: string) => void = () => {},
  ) {
    this.ring = loadKeyRing(config.keys, config.algorithm, Math.floor(now() / 1000));
    if (config.keys.source === 'file') this.mtimeMs = statSync(config.keys.path).mtimeMs;
  }

  current = (): KeyRing => {
    if (this.config.keys.source === 'file') {
      const now = this.now();
      if (now >= this.nextCheck) {
        this.nextCheck = now + RECHECK_MS;
        this.reloadIfChanged(this.config.keys.path);
      }
    }
    return this.ring;
  };

  private reloadIfChanged(path: string): void {
    try {
      const mtimeMs = statSync(path).mtimeMs;
      if (mtimeMs === this.mtimeMs) return;
      this.ring = readKeyFile(path);
      this.mtimeMs = mtimeMs;
    } catch (err) {
      this.onReloadError(`signing keys: keeping the loaded keys; ${(err as Error).message}`);
    }
  }
}
