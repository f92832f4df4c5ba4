/**
 * WAL checkpoints of the embedded SQLite store on a thread of their own. A checkpoint copies the pages
 * committed to the WAL into the database file and syncs both files; SQLite's automatic checkpoint does it
 * inside the COMMIT that crosses 1,000 pages, on the event loop: about a third of the file writes of every
 * provisioning, and two fsyncs that stall every request behind them. Here a second connection, in a worker,
 * checkpoints after the group commit's syncs instead, and the service's own connection never does.
 */

/**
 * The worker: one connection to the database, a PASSIVE checkpoint (it never waits for a lock and never
 * blocks the writer) per message. Hint: the source is given as text, so the compiled executable needs no
 * second entry point; it imports only `bun:sqlite`.
 */
const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db;
let checkpoint;
self.onmessage = ({ data }) => {
  if (data.close) {
    checkpoint?.finalize();
    db?.close();
    db = checkpoint = undefined;
    postMessage({ closed: true });
    return;
  }
  try {
    if (!db) {
      db = new Database(data.path, { readwrite: true, create: false });
      db.run("PRAGMA busy_timeout = 0");
      db.run("PRAGMA synchronous = NORMAL");
      checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    }
    const [row] = checkpoint.values();
    postMessage({ busy: row[0], frames: row[1], copied: row[2] });
  } catch (error) {
    postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
`;

/** Bun's Worker, which a process can stop waiting for (unref) and wait for again (ref). */
type RefWorker = Worker & { ref?: () => void; unref?: () => void };

/** What one checkpoint did: the WAL's frames, those now in the database file, and whether a lock stopped it. */
export interface CheckpointResult {
  busy: number;
  frames: number;
  copied: number;
}

/** How often the checkpointer may run, and where its problems go. */
export interface CheckpointerOptions {
  /**
   * Least time between two checkpoints. Hint: at 8,000 provisionings a second the WAL gains ~2,000 pages
   * (8 MB) in 100 ms, about the size SQLite's own checkpoint would copy at a time.
   */
  intervalMs?: number;
  /** Told why a checkpoint failed (the next commit tries again). */
  onProblem?: ((message: string) => void) | undefined;
  /**
   * Frames the WAL may hold before the next commit waits for it to be emptied (see {@link WalCheckpointer.overBound}):
   * 16,384 by default, 64 MiB of 4 KiB pages.
   */
  maxWalFrames?: number;
  /** Least time between two waits for the WAL to be emptied: 1,000 ms by default. */
  emptyIntervalMs?: number;
}

/** Longest wait of the commits for {@link WalCheckpointer.empty}. */
const EMPTY_TIMEOUT_MS = 5000;

/** Checkpoints one SQLite database's WAL on a worker thread, at most once per interval after a commit. */
export class WalCheckpointer {
  private worker: RefWorker | undefined;
  private running: Promise<CheckpointResult | undefined> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A commit came after the running checkpoint began. */
  private dirty = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly intervalMs: number;
  private readonly maxWalFrames: number;
  private readonly emptyIntervalMs: number;
  /** The WAL's frames as the last checkpoint found them. */
  private walFrames = 0;
  private lastEmptied = Number.NEGATIVE_INFINITY;
  /** Checkpoints finished so far (for tests). */
  checkpoints = 0;
  /** Times the WAL was emptied while commits waited (for tests and the benchmark). */
  emptied = 0;

  constructor(
    private readonly path: string,
    private readonly options: CheckpointerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.maxWalFrames = options.maxWalFrames ?? 16_384;
    this.emptyIntervalMs = options.emptyIntervalMs ?? 1000;
  }

  /**
   * Whether the WAL has outgrown its bound, so the next commit should wait for {@link empty}. Hint: SQLite writes
   * the WAL from its start again only when a write begins after a checkpoint copied every frame. Under a steady
   * stream of commits the worker's checkpoints rarely catch up (each copies what was there when it began, while
   * new frames arrive), so the WAL would grow for as long as the load lasts: ~4 KB per device provisioned. The
   * frames are counted by the checkpoints, so the WAL may pass the bound by what comes in until the next one.
   * At most once a second, so another process's reader (a `sqlite3` shell, a backup) that keeps a checkpoint
   * from copying everything, or the WAL from starting over, cannot stall every commit. The commit that starts
   * the WAL over syncs its new header on the service's thread: one fsync there per restart.
   */
  overBound(): boolean {
    return (
      this.walFrames > this.maxWalFrames &&
      performance.now() - this.lastEmptied >= this.emptyIntervalMs
    );
  }

  /**
   * Checkpoints while the caller holds back its commits: with no new frames, the checkpoint copies them all, and
   * the caller's next write starts the WAL over. Resolves once it is done, failed, or past its deadline.
   */
  async empty(): Promise<void> {
    if (this.closed) return;
    this.lastEmptied = performance.now();
    this.emptied++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Hint: a worker that stopped answering must not hold back every commit; the WAL then grows as before.
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.options.onProblem?.(
          `WAL checkpoint did not answer within ${EMPTY_TIMEOUT_MS / 1000} s; commits go on and the WAL grows until one does`,
        );
        resolve(undefined);
      }, EMPTY_TIMEOUT_MS);
    });
    const result = await Promise.race([this.checkpoint(), late]);
    clearTimeout(timer);
    if (result && result.copied === result.frames) this.walFrames = 0;
  }

  /** Something committed: a checkpoint follows, now or once the interval since the last one has passed. */
  committed(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.running || this.timer) return;
    const wait = this.lastStart + this.intervalMs - performance.now();
    if (wait <= 0) {
      void this.checkpoint();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.checkpoint();
    }, wait);
    this.timer.unref?.();
  }

  /** Runs one checkpoint now (after the running one); resolves with what it did, undefined when it failed. */
  checkpoint(): Promise<CheckpointResult | undefined> {
    if (this.running) return this.running.then(() => this.checkpoint());
    this.dirty = false;
    this.lastStart = performance.now();
    const run = this.ask({ path: this.path }).then(
      (answer) => {
        if (typeof answer.error === "string") {
          this.options.onProblem?.(`WAL checkpoint failed: ${answer.error}`);
          return undefined;
        }
        this.checkpoints++;
        const result = answer as unknown as CheckpointResult;
        this.walFrames = result.frames;
        return result;
      },
      (error: unknown) => {
        this.options.onProblem?.(`WAL checkpoint failed: ${(error as Error).message}`);
        this.stopWorker();
        return undefined;
      },
    );
    this.running = run.finally(() => {
      this.running = undefined;
      if (this.dirty) this.committed();
    });
    return this.running;
  }

  /** Waits for the running checkpoint, closes the worker's connection and ends the worker. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.worker) await this.ask({ close: true }).catch(() => {});
    this.stopWorker();
  }

  /** Sends `message` to the worker (started on first use) and resolves with its one answer. */
  private ask(message: object): Promise<Record<string, unknown>> {
    const worker = this.startWorker();
    return new Promise((resolve, reject) => {
      const done = () => {
        worker.removeEventListener("message", onMessage);
        worker.removeEventListener("error", onError);
        worker.unref?.();
      };
      const onMessage = (event: MessageEvent) => {
        done();
        resolve(event.data as Record<string, unknown>);
      };
      const onError = (event: ErrorEvent) => {
        done();
        reject(new Error(event.message || "the checkpoint worker stopped"));
      };
      worker.addEventListener("message", onMessage);
      worker.addEventListener("error", onError);
      // Hint: the process waits for an answer it asked for (a closing store's last checkpoint), not for an idle worker.
      worker.ref?.();
      worker.postMessage(message);
    });
  }

  private startWorker(): RefWorker {
    if (!this.worker) {
      const url = URL.createObjectURL(
        new Blob([WORKER_SOURCE], { type: "application/javascript" }),
      );
      this.worker = new Worker(url);
    }
    return this.worker;
  }

  private stopWorker(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }
}
