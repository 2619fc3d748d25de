/** The Embeddings view: dataset samples placed by their features at a layer (PCA, t-SNE or UMAP), drawn with Vega. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { View } from 'vega';
import { type ScatterPoint, scatterSpec } from '../../render/scatter.js';
import type { DatasetInfo } from './InputPicker.js';
import { exposed, worker } from './page.js';
import type { EmbeddingMethod, ModelInfo } from './protocol.js';
import { pixelsOf } from './view.js';

type Point = ScatterPoint & { i: number; near: boolean };

export function EmbeddingView(props: {
  model: ModelInfo;
  data: DatasetInfo[];
  onError(message: string): void;
}) {
  const layers = props.model.layers.filter((l) => l.opType !== 'Input' && l.shape.length >= 2);
  const [layer, setLayer] = useState(
    layers.filter((l) => l.shape.length === 4).at(-1)?.tensor ?? layers.at(-1)?.tensor ?? '',
  );
  const [dataset, setDataset] = useState(0);
  const [count, setCount] = useState(200);
  const [method, setMethod] = useState<EmbeddingMethod>('pca');
  const [progress, setProgress] = useState<string>();
  const [points, setPoints] = useState<Point[]>();
  const [hovered, setHovered] = useState<number>();
  const [neighbours, setNeighbours] = useState<{ of: number; list: number[] }>();
  const [took, setTook] = useState<number>();
  const chart = useRef<HTMLDivElement>(null);
  const view = useRef<View | undefined>(undefined);
  const shownSet = useRef(0);

  async function run() {
    const d = props.data[dataset];
    if (!d) return;
    const n = Math.min(Math.max(3, Math.floor(count)), d.length, 2000);
    try {
      setProgress('fetching samples');
      const labels = (await (await fetch(`/api/data/${dataset}/labels-${n}.json`)).json()) as number[];
      const per =
        props.model.preprocessing.channels *
        props.model.preprocessing.size[0] *
        props.model.preprocessing.size[1];
      const pixels = new Float32Array(n * per);
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const r = await fetch(`/api/data/${dataset}/${i}.png`);
          pixels.set((await pixelsOf(await r.blob(), props.model)).pixels, i * per);
        }),
      );
      setProgress('embedding');
      const r = await worker.request(
        { kind: 'embed', layer, pixels, labels, n, method },
        undefined,
        (done, total) => setProgress(`embedding ${done}/${total}`),
      );
      if (r.kind !== 'embedded') return;
      shownSet.current = dataset;
      setTook(r.ms);
      setNeighbours(undefined);
      exposed.embedding = { n, dims: r.dims, points: r.points };
      setPoints(
        labels.map((l, i) => ({
          i,
          x: r.points[i * r.dims],
          y: r.dims > 1 ? r.points[i * r.dims + 1] : 0,
          label: d.classes[l] ?? 'unlabelled',
          near: false,
        })),
      );
    } catch (e) {
      if ((e as Error).message !== 'cancelled') props.onError((e as Error).message);
    }
    setProgress(undefined);
  }

  async function near(i: number) {
    const r = await worker.request({ kind: 'neighbours', of: i, k: 8 });
    if (r.kind !== 'neighbours') return;
    setNeighbours({ of: i, list: r.neighbours });
    exposed.embedding = { ...exposed.embedding!, neighbours: { of: i, list: r.neighbours } };
    const set = new Set([i, ...r.neighbours]);
    setPoints((ps) => ps?.map((p) => ({ ...p, near: set.has(p.i) })));
  }

  useEffect(() => {
    if (!points || !chart.current) return;
    view.current?.finalize();
    let live = true;
    // Vega loads with the first chart, not with the page.
    void import('vega').then(({ parse, View }) => {
      if (!live || !chart.current) return;
      const v = new View(parse(scatterSpec(points, { width: 420, height: 360 })), {
        renderer: 'canvas',
        container: chart.current,
        hover: true,
      });
      v.addEventListener('mouseover', (_, item) => {
        const datum = (item as { datum?: Point } | null)?.datum;
        if (datum) setHovered(datum.i);
      });
      v.addEventListener('click', (_, item) => {
        const datum = (item as { datum?: Point } | null)?.datum;
        if (datum) void near(datum.i);
      });
      view.current = v;
      void v.runAsync().then(() => {
        exposed.embedding = {
          ...exposed.embedding!,
          locate: (i) => {
            const box = chart.current!.querySelector('canvas')!.getBoundingClientRect();
            // The plot's origin within the canvas: Vega's origin (axes, legend) plus the padding.
            const [ox, oy] = v.origin();
            const pad = v.padding() as { left: number; top: number };
            const p = points[i];
            return [box.left + pad.left + ox + v.scale('x')(p.x), box.top + pad.top + oy + v.scale('y')(p.y)];
          },
        };
      });
    });
    return () => {
      live = false;
    };
  }, [points]);
  useEffect(() => () => view.current?.finalize(), []);

  const thumb = (i: number) => `/api/data/${shownSet.current}/${i}.png`;
  return (
    <section aria-label="embeddings">
      <h2>Embeddings</h2>
      <div class="controls">
        <select
          aria-label="embedding dataset"
          value={dataset}
          onChange={(e) => setDataset(Number((e.target as HTMLSelectElement).value))}
        >
          {props.data.map((d, i) => (
            <option value={i}>{d.name}</option>
          ))}
        </select>
        <label>
          samples{' '}
          <input
            type="number"
            aria-label="embedding samples"
            min={3}
            max={2000}
            value={count}
            style={{ width: '5em' }}
            onInput={(e) => setCount(Number((e.target as HTMLInputElement).value))}
          />
        </label>
        <select
          aria-label="embedding layer"
          value={layer}
          onChange={(e) => setLayer((e.target as HTMLSelectElement).value)}
        >
          {layers.map((l) => (
            <option value={l.tensor}>
              {l.tensor} ({l.shape.slice(1).join('×')})
            </option>
          ))}
        </select>
        <select
          aria-label="embedding method"
          value={method}
          onChange={(e) => setMethod((e.target as HTMLSelectElement).value as EmbeddingMethod)}
        >
          <option value="pca">PCA</option>
          <option value="tsne">t-SNE</option>
          <option value="umap">UMAP</option>
        </select>
        <button type="button" onClick={run} disabled={!!progress}>
          embed
        </button>
        {progress && <span class="busy">{progress}…</span>}
        {took !== undefined && !progress && <span class="facts">{Math.round(took)} ms in the worker</span>}
      </div>
      <div class="embedding">
        <div ref={chart} class="chart" />
        {points && (
          <div class="side">
            {hovered !== undefined && (
              <figure>
                <img src={thumb(hovered)} alt={`sample ${hovered}`} />
                <figcaption>
                  #{hovered} · {points[hovered]?.label}
                </figcaption>
              </figure>
            )}
            {neighbours && (
              <figure aria-label="neighbours">
                <figcaption>nearest to #{neighbours.of} in feature space</figcaption>
                {neighbours.list.map((i) => (
                  <img src={thumb(i)} alt={`neighbour ${i}`} title={`#${i} · ${points[i]?.label}`} />
                ))}
              </figure>
            )}
            {hovered === undefined && !neighbours && (
              <p class="facts">hover a point for its image; click for its neighbours</p>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
