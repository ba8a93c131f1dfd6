/**
 * @toolgate/verify's replay file (FileJtiStore), the verifier's default store: used ids survive
 * the store being closed and opened again, expired ids are dropped, the file is compacted as it
 * grows, a torn last line is skipped, a second process is refused the file, and the verifier
 * puts it under the working directory unless told otherwise. Real files in temporary folders;
 * other processes are real `node` processes.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CallVerifier, FileJtiStore, type JtiStore, MemoryJtiStore } from '@toolgate/verify';
import { tempHome } from './support/temp-home.js';

const run = promisify(execFile);
const folder = tempHome('toolgate-replay-file-');
after(() => folder.remove());
let n = 0;
const fresh = (): string => join(folder.path, `used-${++n}`, 'used-jti');

/** Runs a module in another node process (cwd as given); resolves to its stdout, or rejects with its stderr. */
async function inAnotherProcess(source: string, cwd = folder.path): Promise<string> {
  // The package as this test loads it (its sources, through the tsx loader named by full path).
  const verify = import.meta.resolve('@toolgate/verify');
  const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', source.replaceAll('@toolgate/verify', verify)], { cwd });
  return stdout.trim();
}

const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('FileJtiStore', () => {
  test('an id used, the store closed and opened again (a restart) → the same id is refused', async () => {
    const path = fresh();
    const first = FileJtiStore.at(path);
    assert.equal(await first.useOnce('jti-1', Date.now() + 60_000), true);
    assert.equal(await first.useOnce('jti-1', Date.now() + 60_000), false);
    await first.close();
    const second = FileJtiStore.at(path);
    assert.notEqual(second, first);
    assert.equal(await second.useOnce('jti-1', Date.now() + 60_000), false);
    assert.equal(await second.useOnce('jti-2', Date.now() + 60_000), true);
    await second.close();
  });

  test('the same id presented twice at once → accepted once; 100 distinct ids at once → all accepted, 100 lines', async () => {
    const path = fresh();
    const store = FileJtiStore.at(path, { fsync: false });
    const twice = await Promise.all([store.useOnce('same', Date.now() + 60_000), store.useOnce('same', Date.now() + 60_000)]);
    assert.deepEqual(twice.sort(), [false, true]);
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => store.useOnce(`id-${i}`, Date.now() + 60_000)));
    assert.ok(many.every(Boolean));
    assert.equal(lines(path).length, 101);
    await store.close();
  });

  test('ids past their expiry are dropped when the file is opened again: it then holds only the live one', async () => {
    const path = fresh();
    let now = 1_000_000;
    const store = FileJtiStore.at(path, { fsync: false, now: () => now });
    await store.useOnce('short', now + 1000);
    await store.useOnce('long', now + 60_000);
    await store.close();
    now += 5000;
    const again = FileJtiStore.at(path, { fsync: false, now: () => now });
    assert.deepEqual(lines(path), [`${1_000_000 + 60_000} long`]);
    assert.equal(await again.useOnce('short', now + 1000), true, 'an expired id is forgotten');
    assert.equal(await again.useOnce('long', now + 60_000), false);
    await again.close();
  });

  test('20,000 ids, each live for 1 s while the clock moves 1 ms per call: the file is compacted, never past 8,192 lines', async () => {
    const path = fresh();
    let now = 5_000_000;
    const store = FileJtiStore.at(path, { fsync: false, now: () => now });
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      now += 1;
      assert.equal(await store.useOnce(`id-${i}`, now + 1000), true);
      if (i % 1000 === 999) most = Math.max(most, lines(path).length);
    }
    assert.ok(most <= 8192, `the file reached ${most} lines`);
    // In memory: the live ids plus those expired since the last sweep (one per second of clock).
    assert.ok(store.size <= 2001, `${store.size} ids kept in memory`);
    await store.close();
  });

  test('a torn last line (a crash mid-write) is skipped; the complete lines before it still count', async () => {
    const path = fresh();
    const store = FileJtiStore.at(path);
    await store.close();
    const until = Date.now() + 60_000;
    writeFileSync(path, `${until} whole\n${until} tor`);
    const again = FileJtiStore.at(path);
    assert.equal(await again.useOnce('whole', until), false);
    assert.equal(await again.useOnce('torn', until), true);
    assert.deepEqual(lines(path).sort(), [`${until} torn`, `${until} whole`]);
    await again.close();
  });

  test('an id with a space and a newline in it is stored as one line and refused after a restart', async () => {
    const path = fresh();
    const odd = 'a b\nc%';
    const store = FileJtiStore.at(path);
    await store.useOnce(odd, Date.now() + 60_000);
    await store.close();
    assert.equal(lines(path).length, 1);
    const again = FileJtiStore.at(path);
    assert.equal(await again.useOnce(odd, Date.now() + 60_000), false);
    await again.close();
  });

  test('a second process opening a replay file this process holds → refused, naming this pid and the shared-store alternative', async () => {
    const path = fresh();
    const store = FileJtiStore.at(path);
    try {
      await assert.rejects(inAnotherProcess(`import { FileJtiStore } from '@toolgate/verify'; FileJtiStore.at(${JSON.stringify(path)});`), (err: Error & { stderr: string }) => {
        assert.match(err.stderr, new RegExp(`in use by process ${process.pid}`));
        assert.match(err.stderr, /shared JtiStore/);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  test('a lock left by a process that died (SIGKILL: no clean exit) is taken over by the next one, which still refuses the used id', async () => {
    const path = fresh();
    const until = Date.now() + 60_000;
    await assert.rejects(
      inAnotherProcess(
        `import { FileJtiStore } from '@toolgate/verify'; const s = FileJtiStore.at(${JSON.stringify(path)}); await s.useOnce('before-the-crash', ${until}); process.kill(process.pid, 'SIGKILL');`,
      ),
    );
    assert.ok(existsSync(`${path}.lock`), 'the dead process left its lock');
    const store = FileJtiStore.at(path);
    assert.equal(await store.useOnce('before-the-crash', until), false);
    await store.close();
    assert.equal(existsSync(`${path}.lock`), false, 'the lock is released on close');
  });

  test('a closed store refuses to accept an id: ERR_REPLAY_STORE (HTTP 503), never a silent accept', async () => {
    const store = FileJtiStore.at(fresh());
    await store.close();
    assert.throws(
      () => store.useOnce('late', Date.now() + 60_000),
      (err: Error & { code: string; status: number }) => err.code === 'ERR_REPLAY_STORE' && err.status === 503,
    );
  });
});

describe('CallVerifier replay options', () => {
  const keys = { keys: [] } as never;

  test('no replay option: .toolgate-verify/ is made under the working directory at construction; used-jti is opened and locked only by the first call', async () => {
    const cwd = join(folder.path, 'server-cwd');
    mkdirSync(cwd);
    const out = await inAnotherProcess(
      `import { CallVerifier } from '@toolgate/verify';
       import { existsSync } from 'node:fs';
       new CallVerifier({ keys: { keys: [] }, audience: 'urn:a' });
       process.stdout.write(JSON.stringify([existsSync('.toolgate-verify'), existsSync('.toolgate-verify/used-jti.lock')]));`,
      cwd,
    );
    assert.deepEqual(JSON.parse(out), [true, false]);
  });

  test('a verifier holding the default file open, and another process that only constructs one on the same file (a catalog reader): both start', async () => {
    const path = fresh();
    const store = FileJtiStore.at(path);
    try {
      await store.useOnce('in-use', Date.now() + 60_000);
      const out = await inAnotherProcess(
        `import { CallVerifier } from '@toolgate/verify'; new CallVerifier({ keys: { keys: [] }, audience: 'urn:a', replayFile: ${JSON.stringify(path)} }); process.stdout.write('started');`,
      );
      assert.equal(out, 'started');
    } finally {
      await store.close();
    }
  });

  test('replayFile under a regular file (a folder that cannot be created) → an error naming the file and the alternatives', () => {
    const blocker = join(folder.path, 'a-file');
    writeFileSync(blocker, '');
    const path = join(blocker, 'used-jti');
    assert.throws(
      () => new CallVerifier({ keys, audience: 'urn:a', replayFile: path }),
      (err: Error) => err.message.includes(`cannot use the replay file ${path}: `) && err.message.includes("replay: 'memory' (a restart then forgets which tokens were used)"),
    );
  });

  test("contradictory options → TypeError: jtiStore with replayFile; replay: 'memory' with replayFile; replay: 'redis'", () => {
    const own: JtiStore = new MemoryJtiStore();
    assert.throws(() => new CallVerifier({ keys, audience: 'urn:a', jtiStore: own, replayFile: fresh() }), TypeError);
    assert.throws(() => new CallVerifier({ keys, audience: 'urn:a', replay: 'memory', replayFile: fresh() }), TypeError);
    assert.throws(() => new CallVerifier({ keys, audience: 'urn:a', replay: 'redis' as never }), TypeError);
  });
});
