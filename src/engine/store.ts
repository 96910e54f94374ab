// SQLite storage and the in-memory key index. SQLite holds every byte of data; the
// index (db, key) -> meta keeps type, expiry and collection sizes in memory so type
// checks, EXISTS, DBSIZE, SCARD and friends need no query.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';

export const T_STRING = 1;
export const T_HASH = 2;
export const T_SET = 3;
export const T_ZSET = 4;
export const T_STREAM = 5;
export const T_TS = 6;
export const TYPE_NAMES: Record<number, string> = {
  1: 'string',
  2: 'hash',
  3: 'set',
  4: 'zset',
  5: 'stream',
  6: 'TSDB-TYPE',
};

export const NUM_DBS = 16;

export interface StreamMeta {
  lastMs: number;
  lastSeq: number;
  entriesAdded: number;
  maxDelMs: number;
  maxDelSeq: number;
}

export interface TsMeta {
  retention: number;
  dupPolicy: string;
  chunkSize: number;
  encoding: string;
  labels: Array<[string, string]>;
  /** lowest and highest timestamps present; -1 when empty */
  firstTs: number;
  lastTs: number;
  ignoreMaxTimeDiff: number;
  ignoreMaxValDiff: number;
}

export interface KeyMeta {
  id: number;
  type: number;
  /** absolute expiry in ms since epoch; 0 = none */
  exp: number;
  /** element count for hash/set/zset/stream; a series' sample count, -1 while not yet counted */
  n: number;
  stream?: StreamMeta;
  ts?: TsMeta;
  /** cached string value (small strings only), so GET needs no query */
  sval: Buffer | undefined;
  /** index of this key's held row write in the Store's pending arrays; -1 = none */
  pi: number;
}

export const SVAL_MAX = 4096;


/** Rows per multi-row flush statement, largest first (the last size must be 1). */
const FLUSH_SIZES = [128, 16, 1];
const FLUSH_MAX = 128;
const INS_SQL = (n: number) => `INSERT INTO keys (id, db, key, type, exp, val) VALUES ${rowsSql(n, 6)}`;
const UPD_SQL = (n: number) =>
  `WITH v(id, exp, val) AS (VALUES ${rowsSql(n, 3)}) UPDATE keys SET exp = v.exp, val = v.val FROM v WHERE keys.id = v.id`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY,
  db INTEGER NOT NULL,
  key BLOB NOT NULL,
  type INTEGER NOT NULL,
  exp INTEGER NOT NULL DEFAULT 0,
  val BLOB
);
DROP INDEX IF EXISTS keys_db_key; -- older files: the in-memory index enforces (db, key) uniqueness
CREATE TABLE IF NOT EXISTS hash (kid INTEGER NOT NULL, field BLOB NOT NULL, val BLOB NOT NULL, PRIMARY KEY (kid, field)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sets (kid INTEGER NOT NULL, member BLOB NOT NULL, PRIMARY KEY (kid, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zset (kid INTEGER NOT NULL, member BLOB NOT NULL, score REAL NOT NULL, PRIMARY KEY (kid, member)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS zset_score ON zset(kid, score, member);
CREATE TABLE IF NOT EXISTS stream (kid INTEGER NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL, fields BLOB NOT NULL, PRIMARY KEY (kid, ms, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ts (kid INTEGER NOT NULL, t INTEGER NOT NULL, v REAL, PRIMARY KEY (kid, t)) WITHOUT ROWID;
`;

/** Key index map key: Buffers are mapped 1:1 onto latin1 strings. */
export function kstr(b: Buffer): string {
  // Buffer#latin1Slice: toString('latin1') without the encoding dispatch (hot: every key lookup)
  return (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, b.length);
}

/** `(?, ?, ?), (?, ?, ?)`: n rows of w parameters. */
export function rowsSql(n: number, w: number): string {
  const row = `(${new Array(w).fill('?').join(', ')})`;
  return new Array(n).fill(row).join(', ');
}

export class Store {
  readonly db: Database.Database;
  readonly dbs: Array<Map<string, KeyMeta>> = [];
  private cache = new Map<string, Statement>();
  inTx = false;
  /** inside a batch (begin() called): the transaction opens on first use */
  private wantTx = false;
  private beginStmt!: Statement;
  private commitStmt!: Statement;
  /**
   * Key-row writes held until the end of the transaction (strings and metadata values), so a
   * pipeline's writes go to SQLite in a few multi-row statements instead of one statement each;
   * flushed before COMMIT or any other keys statement. Parallel arrays indexed by KeyMeta.pi (no
   * object per write): pKey null = update of an existing row, else insert (the row is not in
   * SQLite yet). The latest value wins; exp and type come from the meta at flush time. A deleted
   * key's slot has pMeta null.
   */
  private pMeta: Array<KeyMeta | null> = [];
  private pKey: Array<Buffer | null> = [];
  private pDb: number[] = [];
  private pVal: Array<Buffer | null> = [];
  private insRows: unknown[] = [];
  private updRows: unknown[] = [];
  private rowStmts = new Map<(n: number) => string, Statement[]>();
  /** keys.id of the next key: ids are assigned here so key rows can be written later */
  private nextId = 1;

  constructor(path: string) {
    this.db = new Database(path);
    if (path !== ':memory:' && path !== '') {
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is in the WAL file (OS cache) before the reply goes out, so it
      // survives a process kill; only power loss can drop the last transactions.
      this.db.pragma('synchronous = NORMAL');
      // one process owns the file: no shared-memory WAL index locking per transaction
      this.db.pragma('locking_mode = EXCLUSIVE');
    }
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    // WAL pages are appended in the OS page cache; checkpoint less often (fewer copies per write)
    this.db.pragma('wal_autocheckpoint = 4000');
    this.db.exec(SCHEMA);
    this.beginStmt = this.db.prepare('BEGIN');
    this.commitStmt = this.db.prepare('COMMIT');
    for (let i = 0; i < NUM_DBS; i++) this.dbs.push(new Map());
    this.load();
  }

  /** Cached prepared statement. Any statement inside a batch opens the batch's transaction. */
  st(sql: string): Statement {
    if (this.wantTx && !this.inTx) this.openTx();
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  private load(): void {
    const rows = this.db.prepare('SELECT id, db, key, type, exp, val FROM keys').all() as Array<{
      id: number;
      db: number;
      key: Buffer;
      type: number;
      exp: number;
      val: Buffer | null;
    }>;
    const byId = new Map<number, KeyMeta>();
    for (const r of rows) {
      const m: KeyMeta = { id: r.id, type: r.type, exp: r.exp, n: 0, sval: undefined, pi: -1 };
      if (r.type === T_STREAM && r.val) m.stream = JSON.parse(r.val.toString()) as StreamMeta;
      if (r.type === T_TS && r.val) {
        m.ts = JSON.parse(r.val.toString()) as TsMeta;
        m.ts.firstTs = -1;
        m.ts.lastTs = -1;
        m.n = -1; // sample count: counted when first asked (commands/ts.ts sampleCount)
      }
      // (db, key) is unique in the in-memory index, which is what every command consults; SQLite
      // has no index on it (it cost every new key a B-tree insert). Should a file ever hold two
      // rows for one key, the newer row (higher id) wins and the older is dropped here.
      const k = kstr(r.key);
      const dup = this.dbs[r.db].get(k);
      if (dup) {
        const [older, newer] = dup.id < r.id ? [dup, m] : [m, dup];
        this.db.prepare('DELETE FROM keys WHERE id = ?').run(older.id);
        this.deleteContent(older);
        byId.delete(older.id);
        if (newer === dup) continue;
      }
      this.dbs[r.db].set(k, m);
      byId.set(r.id, m);
      if (r.id >= this.nextId) this.nextId = r.id + 1;
    }
    const counts: Array<[string, string]> = [
      ['hash', 'kid'],
      ['sets', 'kid'],
      ['zset', 'kid'],
      ['stream', 'kid'],
    ];
    for (const [table] of counts) {
      for (const r of this.db.prepare(`SELECT kid, count(*) AS n FROM ${table} GROUP BY kid`).all() as Array<{
        kid: number;
        n: number;
      }>) {
        const m = byId.get(r.kid);
        if (m) m.n = r.n;
      }
    }
    const first = this.db.prepare('SELECT t FROM ts WHERE kid = ? ORDER BY t ASC LIMIT 1').pluck();
    const last = this.db.prepare('SELECT t FROM ts WHERE kid = ? ORDER BY t DESC LIMIT 1').pluck();
    for (const m of byId.values()) {
      if (m.ts) {
        const f = first.get(m.id) as number | undefined;
        const l = last.get(m.id) as number | undefined;
        m.ts.firstTs = f ?? -1;
        m.ts.lastTs = l ?? -1;
      }
    }
  }

  /**
   * Starts a batch: its transaction opens on the first statement (or held write), so batches
   * that touch no SQLite (PING, WATCH, GET of a cached value) cost no BEGIN/COMMIT.
   */
  begin(): void {
    this.wantTx = true;
  }

  private openTx(): void {
    this.beginStmt.run();
    this.inTx = true;
  }

  /** Ends the batch: writes held rows and commits (before any reply of the batch is sent). */
  commit(): void {
    this.wantTx = false;
    if (this.inTx) {
      this.flushPending();
      this.inTx = false;
      this.commitStmt.run();
    }
  }

  /** Writes the held key rows: inserts, then updates, each in multi-row statements. */
  flushPending(): void {
    const metas = this.pMeta;
    const n = metas.length;
    if (n === 0) return;
    const ins = this.insRows;
    const upd = this.updRows;
    const keys = this.pKey;
    const vals = this.pVal;
    const dbs = this.pDb;
    for (let i = 0; i < n; i++) {
      const m = metas[i];
      if (!m) continue;
      m.pi = -1;
      const key = keys[i];
      if (key !== null) {
        ins.push(m.id, dbs[i], key, m.type, m.exp, vals[i]);
        if (ins.length === FLUSH_MAX * 6) this.runRows(ins, 6, INS_SQL);
      } else {
        upd.push(m.id, m.exp, vals[i]);
        if (upd.length === FLUSH_MAX * 3) this.runRows(upd, 3, UPD_SQL);
      }
    }
    this.clearPending();
    this.runRows(ins, 6, INS_SQL);
    this.runRows(upd, 3, UPD_SQL);
  }

  /**
   * Runs rows (width parameters each) in multi-row statements of FLUSH_SIZES rows, `sql(n)` being
   * the statement for n rows; empties args. One statement per 128 rows instead of one per row.
   */
  insertRows(args: unknown[], width: number, sql: (n: number) => string): void {
    if (this.wantTx && !this.inTx) this.openTx();
    this.runRows(args, width, sql);
  }

  /** Runs rows (width parameters each) in statements of FLUSH_SIZES rows; empties args. */
  private runRows(args: unknown[], width: number, sql: (n: number) => string): void {
    let rows = args.length / width;
    let off = 0;
    for (const size of FLUSH_SIZES) {
      if (rows < size) continue;
      let stmt = this.rowStmts.get(sql)?.[size];
      if (!stmt) {
        const per = this.rowStmts.get(sql) ?? [];
        per[size] = stmt = this.db.prepare(sql(size));
        this.rowStmts.set(sql, per);
      }
      const n = size * width;
      while (rows >= size) {
        stmt.run(off === 0 && args.length === n ? args : args.slice(off, off + n));
        off += n;
        rows -= size;
      }
    }
    args.length = 0;
  }

  private clearPending(): void {
    this.pMeta.length = 0;
    this.pKey.length = 0;
    this.pDb.length = 0;
    this.pVal.length = 0;
  }

  /** Holds a key-row write (key: the row is new) until the end of the transaction. */
  private hold(m: KeyMeta, db: number, key: Buffer | null, val: Buffer | null): void {
    m.pi = this.pMeta.length;
    this.pMeta.push(m);
    this.pKey.push(key);
    this.pDb.push(db);
    this.pVal.push(val);
  }

  /** Looks a key up, deleting it first when it has expired (lazy expiry). */
  lookup(db: number, key: Buffer): KeyMeta | undefined {
    return this.lookupK(db, kstr(key));
  }

  /** lookup() by the key's map string (kstr), for callers that need the string too. */
  lookupK(db: number, k: string): KeyMeta | undefined {
    const m = this.dbs[db].get(k);
    if (m && m.exp !== 0 && m.exp <= Date.now()) {
      this.deleteKey(db, k, m);
      return undefined;
    }
    return m;
  }

  /** Creates a key; k is kstr(key) when the caller has it. */
  createKey(db: number, key: Buffer, type: number, val: Buffer | null = null, exp = 0, k?: string, own = false): KeyMeta {
    const m: KeyMeta = { id: this.nextId++, type, exp, n: 0, sval: undefined, pi: -1 };
    if (type === T_STRING) {
      if (this.wantTx && !this.inTx) this.openTx();
      // held until commit; the request buffer it slices is not reused before then
      if (val) {
        this.cacheVal(m, val, own);
        this.hold(m, db, key, m.sval ?? val);
      } else this.hold(m, db, key, val);
      if (!this.inTx) this.flushPending();
    } else this.st('INSERT INTO keys (id, db, key, type, exp, val) VALUES (?, ?, ?, ?, ?, ?)').run(m.id, db, key, type, exp, val);
    this.dbs[db].set(k ?? kstr(key), m);
    return m;
  }

  deleteKey(db: number, k: string, m: KeyMeta): void {
    this.dbs[db].delete(k);
    let ins = false;
    if (m.pi >= 0) {
      ins = this.pKey[m.pi] !== null;
      this.pMeta[m.pi] = null;
      this.pVal[m.pi] = null;
      m.pi = -1;
    }
    if (!ins) this.st('DELETE FROM keys WHERE id = ?').run(m.id);
    this.deleteContent(m);
  }

  deleteContent(m: KeyMeta): void {
    switch (m.type) {
      case T_HASH:
        this.st('DELETE FROM hash WHERE kid = ?').run(m.id);
        break;
      case T_SET:
        this.st('DELETE FROM sets WHERE kid = ?').run(m.id);
        break;
      case T_ZSET:
        this.st('DELETE FROM zset WHERE kid = ?').run(m.id);
        break;
      case T_STREAM:
        this.st('DELETE FROM stream WHERE kid = ?').run(m.id);
        break;
      case T_TS:
        this.st('DELETE FROM ts WHERE kid = ?').run(m.id);
        break;
    }
  }

  setExp(m: KeyMeta, exp: number): void {
    m.exp = exp;
    // a held row is written with the meta's expiry
    if (m.pi < 0) this.st('UPDATE keys SET exp = ? WHERE id = ?').run(exp, m.id);
  }

  /** Sets the row's value (and, with exp given, its expiry); written at commit. */
  setVal(m: KeyMeta, val: Buffer, exp?: number, own = false): void {
    if (this.wantTx && !this.inTx) this.openTx();
    if (exp !== undefined) m.exp = exp;
    if (m.type === T_STRING) {
      this.cacheVal(m, val, own);
      if (m.sval) val = m.sval;
    }
    if (m.pi >= 0) this.pVal[m.pi] = val;
    else this.hold(m, 0, null, val);
    if (!this.inTx) this.flushPending();
  }

  /** Keeps a copy (own: val is already one): request buffers are slices of a whole socket read. */
  cacheVal(m: KeyMeta, val: Buffer, own = false): void {
    m.sval = val.length <= SVAL_MAX ? (own ? val : Buffer.from(val)) : undefined;
  }

  getVal(m: KeyMeta): Buffer {
    if (m.sval) return m.sval;
    const pv = m.pi >= 0 ? this.pVal[m.pi] : null;
    if (pv) return pv;
    const v = this.st('SELECT val FROM keys WHERE id = ?').pluck().get(m.id) as Buffer;
    if (v.length <= SVAL_MAX) m.sval = v;
    return v;
  }

  saveStreamMeta(m: KeyMeta): void {
    this.setVal(m, Buffer.from(JSON.stringify(m.stream)));
  }

  saveTsMeta(m: KeyMeta): void {
    const t = m.ts as TsMeta;
    const { firstTs: _f, lastTs: _l, ...rest } = t;
    this.setVal(m, Buffer.from(JSON.stringify(rest)));
  }

  renameKey(db: number, from: string, to: Buffer, m: KeyMeta): void {
    this.flushPending();
    this.dbs[db].delete(from);
    this.st('UPDATE keys SET key = ? WHERE id = ?').run(to, m.id);
    this.dbs[db].set(kstr(to), m);
  }

  moveKey(fromDb: number, k: string, toDb: number, m: KeyMeta): void {
    this.flushPending();
    this.dbs[fromDb].delete(k);
    this.st('UPDATE keys SET db = ? WHERE id = ?').run(toDb, m.id);
    this.dbs[toDb].set(k, m);
  }

  flushDb(db: number): void {
    this.flushPending();
    for (const t of ['hash', 'sets', 'zset', 'stream', 'ts']) {
      this.st(`DELETE FROM ${t} WHERE kid IN (SELECT id FROM keys WHERE db = ?)`).run(db);
    }
    this.st('DELETE FROM keys WHERE db = ?').run(db);
    this.dbs[db].clear();
  }

  flushAll(): void {
    for (const m of this.pMeta) if (m) m.pi = -1;
    this.clearPending();
    for (const t of ['hash', 'sets', 'zset', 'stream', 'ts', 'keys']) this.st(`DELETE FROM ${t}`).run();
    for (const d of this.dbs) d.clear();
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
