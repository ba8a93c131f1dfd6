/**
 * The SQLite store's writer thread. A commit with `synchronous=FULL` waits for the disk (an
 * fsync, 0.3–6 ms here); done on the gateway's own thread it would stall every request in
 * flight for that long. Here it stalls only this thread, and the next batch gathers meanwhile.
 */

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface AppendMessage {
  id: number;
  records: Array<Record<string, unknown>>;
  payloads: Array<Record<string, unknown>>;
}

const db = new Database((workerData as { path: string }).path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('secure_delete = ON');
db.pragma('busy_timeout = 2000');
const insertRecord = db.prepare(
  'INSERT INTO records (chain, seq, prev, hash, at, kind, agent_id, user_id, tenant, tool, verdict, session, trace, request, instruction, body) VALUES (@chain, @seq, @prev, @hash, @at, @kind, @agent, @user, @tenant, @tool, @verdict, @session, @trace, @request, @instruction, @body)',
);
const insertPayload = db.prepare('INSERT OR REPLACE INTO payloads (commitment, chain, at, salt, value) VALUES (@commitment, @chain, @at, @salt, @value)');
const append = db.transaction((m: AppendMessage) => {
  for (const r of m.records) insertRecord.run(r);
  for (const p of m.payloads) insertPayload.run(p);
});

parentPort!.on('message', (m: AppendMessage | { id: number; close: true }) => {
  if ('close' in m) {
    db.close();
    parentPort!.postMessage({ id: m.id, ok: true });
    return;
  }
  try {
    append(m);
    parentPort!.postMessage({ id: m.id, ok: true });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
