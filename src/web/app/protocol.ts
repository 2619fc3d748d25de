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
  /** Layers with their receptive field in input pixels (H×W; 'global' after pooling; absent when not modelled). */
  layers: { tensor: string; opType: string; shape: number[]; field?: [number, number] | 'global' }[];
  /** Where it runs, e.g. "WebAssembly, 2 threads; WebGPU available". */
  runtime: string;
  /** SHA-256 of the model file (hex), to match scan indexes. */
  sha256: string;
}

/** A Conv filter: the weights [in / group, kh, kw] of one output channel. */
export interface Filter {
  conv: string;
  dims: number[];
  data: Float32Array;
}

export type EmbeddingMethod = 'pca' | 'tsne' | 'umap';

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
  | {
      id: number;
      kind: 'load';
      name: string;
      bytes: ArrayBuffer;
      /** External-data files by name, given with the model. */
      extra?: Record<string, ArrayBuffer>;
      /** Preprocessing that overrides the card's: input size, layout, normalisation, class labels. */
      size?: number[];
      layout?: 'nchw' | 'nhwc';
      mean?: number[];
      std?: number[];
      classes?: string[];
    }
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
  | { id: number; kind: 'featureMaps'; pixels: Float32Array; layer: string }
  /** The Conv filter behind a channel of a layer (through elementwise ops such as ReLU and BatchNorm). */
  | { id: number; kind: 'filter'; layer: string; channel: number }
  /** A feature visualisation of one channel: gradient ascent from seeded noise; streams progress. */
  | { id: number; kind: 'visualize'; layer: string; channel: number; steps: number }
  /** Embed samples (n images at the model's size, [0, 1]) by their features at a layer; keeps the features for `neighbours`. */
  | {
      id: number;
      kind: 'embed';
      layer: string;
      pixels: Float32Array;
      labels: number[];
      n: number;
      method: EmbeddingMethod;
    }
  | { id: number; kind: 'neighbours'; of: number; k: number };

export type Reply =
  | { id: number; kind: 'loaded'; model: ModelInfo }
  | { id: number; kind: 'predicted'; predictions: Prediction[] }
  | { id: number; kind: 'map'; map: RenderedMap; done: number; total: number }
  | { id: number; kind: 'explained'; skipped: Record<string, string>; layer?: string }
  | { id: number; kind: 'rendered'; overlays: Record<string, RenderedMap['overlay']> }
  | { id: number; kind: 'featureMaps'; channels: number; height: number; width: number; data: Float32Array }
  | { id: number; kind: 'progress'; done: number; total: number }
  | { id: number; kind: 'filter'; filter?: Filter; why?: string }
  | {
      id: number;
      kind: 'visualized';
      image: { width: number; height: number; rgba: Uint8ClampedArray };
      objective: [number, number];
      ms: number;
    }
  | { id: number; kind: 'embedded'; points: Float64Array; dims: number; pooled: boolean; ms: number }
  | { id: number; kind: 'neighbours'; of: number; neighbours: number[] }
  | { id: number; kind: 'error'; message: string };
