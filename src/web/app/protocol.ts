/** Messages between the explorer page and its worker (which holds the model and runs every method). */
import type { Preprocessing } from '../../data/preprocess.js';

/** How maps are drawn: colormap (default per kind of map) and overlay opacity. */
export interface Look {
  colormap?: string;
  alpha?: number;
}

export interface ModelInfo {
  name: string;
  classes: string[];
  preprocessing: Preprocessing;
  /** Whether the model carries a convlens card (without one, the size must be given). */
  carded: boolean;
  methods: string[];
  layers: { tensor: string; opType: string; shape: number[] }[];
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

export interface RenderedMap {
  method: string;
  /** The raw map and its dims ([1, C, H, W] at input or layer resolution). */
  data: Float32Array;
  dims: number[];
  /** The overlay, RGBA. */
  overlay: { width: number; height: number; rgba: Uint8ClampedArray };
  box?: [number, number, number, number];
  ms: number;
}

export type Request =
  | { id: number; kind: 'load'; name: string; bytes: ArrayBuffer; size?: number[] }
  /** Pixels: the image at the model's size, planar RGB (or grey) in [0, 1]. */
  | { id: number; kind: 'predict'; pixels: Float32Array; top: number }
  | {
      id: number;
      kind: 'explain';
      pixels: Float32Array;
      methods: string[];
      target: number | 'top';
      /** Method parameters, as for explain (e.g. { ig: { steps: 64 } }). */
      params: Record<string, object>;
      /** The feature map CAM methods read (default: the card's, else the last one). */
      layer?: string;
      look: Look;
    }
  /** Draw the last explanation's maps again with another look (no recomputation). */
  | { id: number; kind: 'render'; look: Look }
  | { id: number; kind: 'featureMaps'; pixels: Float32Array; layer: string };

export type Reply =
  | { id: number; kind: 'loaded'; model: ModelInfo }
  | { id: number; kind: 'predicted'; predictions: Prediction[] }
  | { id: number; kind: 'map'; map: RenderedMap; done: number; total: number }
  | { id: number; kind: 'explained'; skipped: Record<string, string>; layer?: string }
  | { id: number; kind: 'rendered'; overlays: Record<string, RenderedMap['overlay']> }
  | { id: number; kind: 'featureMaps'; channels: number; height: number; width: number; data: Float32Array }
  | { id: number; kind: 'error'; message: string };
