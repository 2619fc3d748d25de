/** The page's side of the worker: requests as promises, streamed maps as callbacks, cancel by restarting it. */
import type { RenderedMap, Reply, Request } from './protocol.js';

type Pending = {
  resolve(r: Reply): void;
  reject(e: Error): void;
  onMap?(m: RenderedMap, done: number, total: number): void;
  onProgress?(done: number, total: number): void;
};
/** A request without its id (Omit over each member of the union). */
type Body = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

export class ExplorerWorker {
  private worker!: Worker;
  private next = 1;
  private pending = new Map<number, Pending>();
  private lastLoad?: Extract<Body, { kind: 'load' }>;

  constructor() {
    this.start();
  }

  private start() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.kind === 'map') return p.onMap?.(r.map, r.done, r.total);
      if (r.kind === 'progress') return p.onProgress?.(r.done, r.total);
      this.pending.delete(r.id);
      if (r.kind === 'error') p.reject(new Error(r.message));
      else p.resolve(r);
    };
  }

  request(body: Body, onMap?: Pending['onMap'], onProgress?: Pending['onProgress']): Promise<Reply> {
    const id = this.next++;
    // The model is loaded again after a cancel, so keep a copy of the last one that loaded.
    const copy = body.kind === 'load' ? { ...body, bytes: body.bytes.slice(0) } : undefined;
    return new Promise((resolve, reject) => {
      const loaded = (r: Reply) => {
        if (copy && r.kind === 'loaded') this.lastLoad = copy;
        resolve(r);
      };
      this.pending.set(id, { resolve: loaded, reject, onMap, onProgress });
      this.worker.postMessage({ ...body, id });
    });
  }

  /** Stop whatever runs: the worker is replaced and the model loaded again. */
  async cancel(): Promise<void> {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('cancelled'));
    this.pending.clear();
    this.start();
    if (this.lastLoad) await this.request(this.lastLoad);
  }
}
