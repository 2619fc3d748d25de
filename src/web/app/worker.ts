/** The explorer's Web Worker: it holds the model (onnxruntime-web) and runs predictions and methods off the page. */
import * as ort from 'onnxruntime-web/wasm';
import { topClasses } from '../../cli/predictions.js';
import { readCard } from '../../data/card.js';
import { normalizeSample } from '../../data/preprocess.js';
import { explain, METHOD_NAMES } from '../../methods/attribution/index.js';
import { type AttributionMap, Explainer } from '../../methods/attribution/pipeline.js';
import { receptiveFields } from '../../methods/inspect/receptiveField.js';
import { inputLayout, withNchwInput } from '../../onnx/layout.js';
import { decodeModel, type Model } from '../../onnx/model.js';
import { float32 } from '../../onnx/tensor.js';
import { renderAttribution } from '../../render/attribution.js';
import type { ColormapName } from '../../render/colormap.js';
import { type RgbImage, rgbaFromRgb, rgbFromPlanar } from '../../render/image.js';
import { ConvlensModel } from '../../runtime/model.js';
import { OrtBackend, type OrtModule } from '../../runtime/onnxruntime.js';
import { embedSamples, nearest } from './embedding.js';
import type { Look, ModelInfo, Reply, Request } from './protocol.js';
import { filterOf, visualizeChannel } from './units.js';

const post = (reply: Reply, transfer: Transferable[] = []) =>
  (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(reply, transfer);

let current:
  | { model: ConvlensModel; graph: Model; info: ModelInfo; logits: string; features?: string }
  | undefined;
// onnxruntime-web's WebAssembly build (half the size of the WebGPU one, so the first model loads
// sooner), on every core when the page is cross-origin isolated (the server sends COOP/COEP).
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = self.crossOriginIsolated ? navigator.hardwareConcurrency : 1;
const backend = new OrtBackend('onnxruntime-web', ort as unknown as OrtModule, ['wasm']);

function inputDims(info: ModelInfo): number[] {
  const p = info.preprocessing;
  return [1, p.channels, ...p.size];
}

async function load(request: Extract<Request, { kind: 'load' }>) {
  const { name, bytes, size } = request;
  let decoded: Model;
  try {
    decoded = decodeModel(new Uint8Array(bytes), {
      source: `"${name}"`,
      readExternal: (location) => {
        const file = request.extra?.[location.split('/').at(-1)!];
        if (!file)
          throw new Error(
            `its weights are in the external file "${location}"; choose it together with ${name}`,
          );
        return new Uint8Array(file);
      },
    });
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(/is not an ONNX model/.test(message) ? message : `"${name}": ${message}`);
  }
  const card = readCard(decoded);
  const layout = request.layout ?? card?.preprocessing.layout ?? inputLayout(decoded) ?? 'nchw';
  const model = withNchwInput(decoded, layout);
  const input = model.graph.inputs.find((i) => !model.graph.initializers.has(i.name));
  const declared = input?.shape?.map((d) => (typeof d === 'number' ? d : undefined)) ?? [];
  const channels = card?.preprocessing.channels ?? (declared[1] === 1 ? 1 : 3);
  const hw =
    size ?? card?.preprocessing.size ?? (declared[2] && declared[3] ? [declared[2], declared[3]] : undefined);
  if (!hw) throw new Error(`"${name}" has no convlens card and no fixed input size; give its size (H,W)`);
  const preprocessing = {
    size: hw as [number, number],
    channels,
    resize: 'exact' as const,
    layout,
    mean: request.mean ?? card?.preprocessing.mean ?? [0],
    std: request.std ?? card?.preprocessing.std ?? [1],
  };
  if (preprocessing.std.some((v) => !(v > 0)))
    throw new Error(`std must be positive, got ${preprocessing.std.join(', ')}`);
  const m = new ConvlensModel(model, backend);
  try {
    const info = await describe(m, name, bytes, request, card, preprocessing);
    await current?.model.release();
    current = {
      model: m,
      graph: model,
      info: info.model,
      logits: info.logits,
      features: card?.tensors?.features,
    };
    return info.model;
  } catch (e) {
    await m.release();
    throw e;
  }
}

/** What the page shows of a model; refuses labels that do not fit its classes. */
async function describe(
  m: ConvlensModel,
  name: string,
  bytes: ArrayBuffer,
  request: Extract<Request, { kind: 'load' }>,
  card: ReturnType<typeof readCard>,
  preprocessing: ModelInfo['preprocessing'],
): Promise<{ model: ModelInfo; logits: string }> {
  const { channels, size: hw } = preprocessing;
  const layers = await m.layers([1, channels, ...hw]);
  const s = await m.prepare({ [m.inputNames[0]]: [1, channels, ...hw] });
  const { fields } = receptiveFields(s.model, s.types);
  const field = (t: string) => {
    const f = fields.get(t);
    return f === 'global' ? f : f?.size;
  };
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const logits = card?.tensors?.logits ?? m.outputNames[0];
  const classCount = layers.find((l) => l.tensor === logits)?.shape.at(-1);
  if (request.classes && classCount !== undefined && request.classes.length !== classCount)
    throw new Error(
      `the labels file has ${request.classes.length} labels, but the model has ${classCount} classes`,
    );
  const info: ModelInfo = {
    name,
    classes: request.classes ?? card?.classes ?? [],
    preprocessing,
    carded: !!card,
    methods: [...METHOD_NAMES].filter((x) => x !== 'scouter'),
    layers: layers.map((l) => ({
      tensor: l.tensor,
      opType: l.opType,
      shape: l.shape,
      field: field(l.tensor),
    })),
    runtime: `WebAssembly, ${ort.env.wasm.numThreads} thread(s)`,
    sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
  };
  return { model: info, logits };
}

/** Pixels in [0, 1] (one image, planar) normalised into `out` at `offset` as the model expects. */
const normalizeInto = (pixels: Float32Array, out: Float32Array, offset: number) =>
  normalizeSample(pixels, current!.info.preprocessing, out, offset);

function normalized(pixels: Float32Array): Float32Array {
  const out = new Float32Array(pixels.length);
  normalizeInto(pixels, out, 0);
  return out;
}

function explainerFor(pixels: Float32Array) {
  const { model, info, logits, features } = current!;
  return new Explainer(model, float32(normalized(pixels), inputDims(info)), {
    logits,
    features,
    classes: info.classes,
  });
}

/** The image as the base of overlays: RGB bytes at the model's size. */
function baseImage(pixels: Float32Array): RgbImage {
  const [h, w] = current!.info.preprocessing.size;
  return rgbFromPlanar(pixels, pixels.length / (h * w), h, w);
}

/** The last explanation, kept to draw again with another look. */
let last: { base: RgbImage; maps: AttributionMap[] } | undefined;

function draw(map: AttributionMap, base: RgbImage, look: Look) {
  const rendered = renderAttribution(map, 0, base, {
    displaySize: Math.max(base.width, base.height),
    colormap: (look.colormap || undefined) as ColormapName | undefined,
    alpha: look.alpha,
  });
  return { overlay: rgbaFromRgb(rendered.image), box: rendered.box };
}

async function handle(r: Request): Promise<void> {
  if (r.kind === 'load') {
    post({ id: r.id, kind: 'loaded', model: await load(r) });
    return;
  }
  if (!current) throw new Error('no model is loaded');
  if (r.kind === 'predict') {
    const explainer = explainerFor(r.pixels);
    const out = await current.model.run(explainer.input, { outputs: [explainer.logits] });
    const predictions = topClasses(out[explainer.logits], current.info.classes, r.top)[0];
    post({ id: r.id, kind: 'predicted', predictions });
  } else if (r.kind === 'render') {
    const kept = last;
    if (!kept) throw new Error('nothing to draw yet: explain first');
    const overlays = Object.fromEntries(kept.maps.map((m) => [m.method, draw(m, kept.base, r.look).overlay]));
    post({ id: r.id, kind: 'rendered', overlays });
  } else if (r.kind === 'explain') {
    const explainer = explainerFor(r.pixels);
    const target =
      r.target === 'top' ? ({ kind: 'top' } as const) : ({ kind: 'class', index: r.target } as const);
    const skipped: Record<string, string> = {};
    const base = baseImage(r.pixels);
    const kept: NonNullable<typeof last> = { base, maps: [] };
    last = kept;
    let layer: string | undefined;
    for (const [i, method] of r.methods.entries()) {
      const t = performance.now();
      const result = await explain(explainer, {
        methods: [method],
        target,
        params: r.params,
        layer: r.layer,
      });
      Object.assign(skipped, result.skipped);
      layer ??= result.layer;
      for (const map of result.maps) {
        kept.maps.push(map);
        const rendered = draw(map, base, r.look);
        const data = Float32Array.from(map.data);
        post(
          {
            id: r.id,
            kind: 'map',
            map: {
              method,
              data,
              dims: map.dims,
              overlay: rendered.overlay,
              box: rendered.box,
              ms: performance.now() - t,
            },
            done: i + 1,
            total: r.methods.length,
          },
          [data.buffer],
        );
      }
    }
    post({ id: r.id, kind: 'explained', skipped, layer });
  } else if (r.kind === 'featureMaps') {
    const explainer = explainerFor(r.pixels);
    const out = (await current.model.run(explainer.input, { outputs: [r.layer] }))[r.layer];
    if (out.dims.length !== 4)
      throw new Error(`layer "${r.layer}" is not a feature map (shape [${out.dims.join(', ')}])`);
    const data = Float32Array.from(out.data as Float32Array);
    post(
      { id: r.id, kind: 'featureMaps', channels: out.dims[1], height: out.dims[2], width: out.dims[3], data },
      [data.buffer],
    );
  } else if (r.kind === 'filter') {
    const got = filterOf(current.graph, r.layer, r.channel);
    post({ id: r.id, kind: 'filter', ...got }, got.filter ? [got.filter.data.buffer] : []);
  } else if (r.kind === 'visualize') {
    const v = await visualizeChannel(
      current.model,
      current.info.preprocessing,
      current.logits,
      r,
      (done, total) => post({ id: r.id, kind: 'progress', done, total }),
    );
    post({ id: r.id, kind: 'visualized', ...v }, [v.image.rgba.buffer]);
  } else if (r.kind === 'embed') {
    const t = performance.now();
    const { points, features } = await embedSamples(
      current.model,
      r,
      inputDims(current.info).slice(1),
      normalizeInto,
      (done, total) => post({ id: r.id, kind: 'progress', done, total }),
    );
    post({
      id: r.id,
      kind: 'embedded',
      points,
      dims: points.length / r.n,
      pooled: features.pooled,
      ms: performance.now() - t,
    });
  } else if (r.kind === 'neighbours') {
    post({ id: r.id, kind: 'neighbours', of: r.of, neighbours: nearest(r.of, r.k) });
  }
}

self.onmessage = (e: MessageEvent<Request>) => {
  handle(e.data).catch((err) => post({ id: e.data.id, kind: 'error', message: (err as Error).message }));
};
