/** The convlens explorer: pick a model, give an image, see its prediction, every attribution map and any layer. */
import { useEffect, useState } from 'preact/hooks';
import { Controls } from './Controls.js';
import { saveMapNpy, saveOverlayPng } from './download.js';
import { EmbeddingView } from './EmbeddingView.js';
import { type DatasetInfo, InputPicker } from './InputPicker.js';
import { type IndexInfo, LayersView } from './LayersView.js';
import { ModelPanel, type Overrides } from './ModelPanel.js';
import { exposed, worker } from './page.js';
import type { ModelInfo, Prediction, RenderedMap } from './protocol.js';
import { DEFAULT_SETTINGS, decodeState, encodeState, methodParams, type Settings } from './settings.js';
import { Picture, pixelsOf, spatialLayers, valueAt } from './view.js';

export interface Manifest {
  models: { name: string; url: string }[];
  index?: IndexInfo;
}

/** A model file as chosen: its bytes and any external-data files by name. */
interface ModelFile {
  name: string;
  bytes: ArrayBuffer;
  extra?: Record<string, ArrayBuffer>;
}

export function App(props: { manifest: Manifest }) {
  const [model, setModel] = useState<ModelInfo>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [size, setSize] = useState('');
  /** A model file waiting for its input size. */
  const [pending, setPending] = useState<ModelFile>();
  /** The loaded model's file, to load again with other preprocessing. */
  const [source, setSource] = useState<ModelFile>();
  const [image, setImage] = useState<{
    pixels: Float32Array;
    display: { width: number; height: number; rgba: Uint8ClampedArray };
  }>();
  const [predictions, setPredictions] = useState<Prediction[]>([]);
  const [target, setTarget] = useState<number>();
  const [maps, setMaps] = useState<RenderedMap[]>([]);
  const [progress, setProgress] = useState<[number, number]>();
  const [hover, setHover] = useState<[number, number]>();
  const shared = decodeState(location.hash);
  const [settings, setSettings] = useState<Settings>(shared?.settings ?? DEFAULT_SETTINGS);

  // The page state as a shareable URL hash: model, target, method settings.
  useEffect(() => {
    if (model) history.replaceState(null, '', encodeState({ model: model.name, target, settings }));
  }, [model, target, settings]);

  async function restyle(next: Settings) {
    setSettings(next);
    if (maps.length === 0) return;
    const r = await worker.request({ kind: 'render', look: next.look });
    if (r.kind === 'rendered')
      setMaps((ms) => ms.map((m) => ({ ...m, overlay: r.overlays[m.method] ?? m.overlay })));
  }

  const fail = (e: unknown) => {
    if ((e as Error).message !== 'cancelled') setError((e as Error).message);
    setBusy(undefined);
  };

  async function load(
    name: string,
    bytes: ArrayBuffer,
    options: Overrides & { extra?: Record<string, ArrayBuffer> } = {},
  ) {
    setError(undefined);
    setBusy(`loading ${name}`);
    try {
      const r = await worker.request({ kind: 'load', name, bytes, ...options });
      if (r.kind !== 'loaded') return;
      setSource({ name, bytes, extra: options.extra });
      setModel(r.model);
      exposed.model = r.model;
      exposed.predictions = undefined;
      exposed.maps = {};
      setPending(undefined);
      setImage(undefined);
      setMaps([]);
      setPredictions([]);
      setBusy(undefined);
    } catch (e) {
      // A model without a card or a fixed size waits for its size.
      if (/give its size/.test((e as Error).message)) setPending({ name, bytes, extra: options.extra });
      fail(e);
    }
  }

  async function openShipped(name: string) {
    const m = props.manifest.models.find((x) => x.name === name);
    if (m) await load(m.name, await (await fetch(m.url)).arrayBuffer());
  }

  // Datasets come separately: the server may still be loading them.
  const [data, setData] = useState<DatasetInfo[]>([]);
  useEffect(() => {
    fetch('/api/data')
      .then((r) => (r.ok ? r.json() : []))
      .then(setData, () => setData([]));
  }, []);

  useEffect(() => {
    const first =
      props.manifest.models.find((m) => m.name === shared?.model) ??
      props.manifest.models.find((m) => m.name === 'shapes-gap') ??
      props.manifest.models[0];
    if (first) void openShipped(first.name);
  }, []);

  async function useImage(file: Blob) {
    if (!model) return;
    setError(undefined);
    try {
      const img = await pixelsOf(file, model);
      setImage(img);
      setMaps([]);
      exposed.maps = {};
      const r = await worker.request({ kind: 'predict', pixels: img.pixels, top: 5 });
      if (r.kind === 'predicted') {
        setPredictions(r.predictions);
        exposed.predictions = r.predictions;
        setTarget(r.predictions[0]?.index);
        exposed.target = r.predictions[0]?.index;
      }
    } catch (e) {
      fail(e);
    }
  }

  async function runExplain(cls = target) {
    if (!model || !image) return;
    setError(undefined);
    setMaps([]);
    exposed.maps = {};
    setBusy('explaining');
    setProgress([0, model.methods.length]);
    const got: RenderedMap[] = [];
    try {
      await worker.request(
        {
          kind: 'explain',
          pixels: image.pixels,
          methods: model.methods,
          target: cls ?? 'top',
          params: methodParams(settings),
          layer: settings.layer || undefined,
          look: { colormap: settings.look.colormap || undefined, alpha: settings.look.alpha },
        },
        (map, done, total) => {
          got.push(map);
          exposed.maps[map.method] = map;
          setMaps([...got]);
          setProgress([done, total]);
        },
      );
      setBusy(undefined);
    } catch (e) {
      fail(e);
    }
  }

  const spatial = model ? spatialLayers(model) : [];
  return (
    <main>
      <header>
        <h1>convlens explorer</h1>
        <label>
          model{' '}
          <select
            aria-label="model"
            onChange={(e) => openShipped((e.target as HTMLSelectElement).value)}
            value={model?.name}
          >
            {props.manifest.models.map((m) => (
              <option value={m.name}>{m.name}</option>
            ))}
            {model && !props.manifest.models.some((m) => m.name === model.name) && (
              <option value={model.name}>{model.name}</option>
            )}
          </select>
        </label>{' '}
        <label>
          or an .onnx file (with its external-data files){' '}
          <input
            type="file"
            aria-label="onnx file"
            multiple
            onChange={async (e) => {
              const input = e.target as HTMLInputElement;
              const files = [...(input.files ?? [])];
              input.value = ''; // the same file chosen again is a new choice
              const onnx = files.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
              if (onnx.length !== 1)
                return setError(
                  `choose one .onnx file (and its external-data files); got ${onnx.length} .onnx files`,
                );
              const extra: Record<string, ArrayBuffer> = {};
              for (const f of files) if (f !== onnx[0]) extra[f.name] = await f.arrayBuffer();
              await load(onnx[0].name, await onnx[0].arrayBuffer(), { extra });
            }}
          />
        </label>
        {pending && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const parts = size.split(/[,x]/).map(Number);
              if (parts.some((n) => !Number.isInteger(n) || n <= 0))
                return setError(`size "${size}" is not H,W`);
              void load(pending.name, pending.bytes, {
                extra: pending.extra,
                size: parts.length === 1 ? [parts[0], parts[0]] : parts,
              });
            }}
          >
            <label>
              input size (H,W) of {pending.name}{' '}
              <input
                aria-label="input size"
                value={size}
                onInput={(e) => setSize((e.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit">use size</button>
          </form>
        )}
        {busy && <span class="busy">{busy}…</span>}
      </header>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {model && source && (
        <ModelPanel
          key={`${model.name}:${model.sha256}:${model.preprocessing.size.join('x')}`}
          model={model}
          onApply={(overrides) => void load(source.name, source.bytes, { extra: source.extra, ...overrides })}
          onError={setError}
        />
      )}
      {model && (
        <section aria-label="input">
          <h2>Input</h2>
          <p class="facts">
            {model.name}: {model.preprocessing.channels}×{model.preprocessing.size.join('×')},{' '}
            {model.classes.length || 'unnamed'} classes · runs in this browser: {model.runtime}
          </p>
          <InputPicker data={data} onImage={(blob) => void useImage(blob)} onError={setError} />
          {image && <Picture img={image.display} label="input image" />}
        </section>
      )}
      {predictions.length > 0 && (
        <section aria-label="prediction">
          <h2>Prediction</h2>
          <ol class="bars">
            {predictions.map((p) => (
              <li>
                <button
                  type="button"
                  class={p.index === target ? 'target' : ''}
                  aria-pressed={p.index === target}
                  onClick={() => {
                    setTarget(p.index);
                    exposed.target = p.index;
                    if (maps.length > 0) void runExplain(p.index);
                  }}
                >
                  <span class="label">{p.label}</span>
                  <span class="bar" style={{ width: `${Math.round(100 * p.probability)}%` }} />
                  <span class="prob">{(100 * p.probability).toFixed(1)}%</span>
                </button>
              </li>
            ))}
          </ol>
        </section>
      )}
      {image && model && (
        <section aria-label="explain">
          <h2>Explain {target !== undefined && `· ${model.classes[target] ?? `class ${target}`}`}</h2>
          <button type="button" onClick={() => runExplain()} disabled={!!busy}>
            explain with every method
          </button>{' '}
          {busy === 'explaining' && (
            <button type="button" onClick={() => worker.cancel().then(() => setBusy(undefined))}>
              cancel
            </button>
          )}
          {progress && busy === 'explaining' && <progress value={progress[0]} max={progress[1]} />}
          <Controls
            settings={settings}
            layers={spatial.map((l) => l.tensor)}
            onChange={setSettings}
            onLook={(next) => void restyle(next)}
          />
          {hover && maps.length > 0 && (
            <p class="hover">
              ({hover[0]}, {hover[1]}):{' '}
              {maps
                .map(
                  (m) =>
                    `${m.method} ${valueAt(m, hover[0], hover[1], model.preprocessing.size).toPrecision(3)}`,
                )
                .join(' · ')}
            </p>
          )}
          <div class="grid">
            {maps.map((m) => (
              <figure class="map" data-method={m.method}>
                <Picture img={m.overlay} label={m.method} onHover={(x, y) => setHover([x, y])} />
                <figcaption>
                  {m.method} · {Math.round(m.ms)} ms{' '}
                  <button type="button" class="link" onClick={() => saveOverlayPng(m)}>
                    PNG
                  </button>{' '}
                  <button type="button" class="link" onClick={() => saveMapNpy(m)}>
                    .npy
                  </button>
                </figcaption>
              </figure>
            ))}
          </div>
        </section>
      )}
      {image && model && spatial.length > 0 && (
        <LayersView model={model} pixels={image.pixels} index={props.manifest.index} onError={setError} />
      )}
      {model && data.length > 0 && (
        <EmbeddingView key={model.sha256} model={model} data={data} onError={setError} />
      )}
    </main>
  );
}
