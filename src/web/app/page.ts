/** The page's shared pieces: one worker for every view, and what tests read back from the page. */
import { ExplorerWorker } from './client.js';
import type { Filter, ModelInfo, Prediction, RenderedMap } from './protocol.js';

declare global {
  interface Window {
    convlensExplorer?: {
      model?: ModelInfo;
      predictions?: Prediction[];
      maps: Record<string, RenderedMap>;
      target?: number;
      /** The worker's requests, for automation (benchmarks drive the page through it). */
      request?: ExplorerWorker['request'];
      /** The Layers view's selected channel: its filter, visualisation objective and patch count. */
      channel?: {
        layer: string;
        channel: number;
        filter?: Filter;
        objective?: [number, number];
        patches: number;
      };
      /** The Embeddings view: 2-D points (n × dims) and the last neighbours asked for. */
      embedding?: {
        n: number;
        dims: number;
        points: Float64Array;
        neighbours?: { of: number; list: number[] };
        /** Where point i is drawn, in client pixels. */
        locate?(i: number): [number, number];
      };
    };
  }
}

export const worker = new ExplorerWorker();
export const exposed: NonNullable<Window['convlensExplorer']> = {
  maps: {},
  request: (...args) => worker.request(...args),
};
window.convlensExplorer = exposed;
