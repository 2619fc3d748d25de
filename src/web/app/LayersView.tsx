/** The Layers view: a layer's feature maps as tiles; a channel's filter, live visualisation and top dataset patches. */
import { useEffect, useState } from 'preact/hooks';
import type { IndexSummary } from '../../serve/sources.js';
import { exposed, worker } from './page.js';
import type { Filter, ModelInfo } from './protocol.js';
import { channelImage, filterImages, Picture, spatialLayers } from './view.js';

/** A scan index the server offers. */
export type IndexInfo = IndexSummary;

type Rgba = { width: number; height: number; rgba: Uint8ClampedArray };

export function LayersView(props: {
  model: ModelInfo;
  pixels: Float32Array;
  index?: IndexInfo;
  onError(message: string): void;
}) {
  const spatial = spatialLayers(props.model);
  const [layer, setLayer] = useState(spatial.at(-1)?.tensor ?? '');
  const [maps, setMaps] = useState<{ channels: number; height: number; width: number; data: Float32Array }>();
  const [channel, setChannel] = useState<number>();
  const [filter, setFilter] = useState<{ filter?: Filter; why?: string }>();
  const [visual, setVisual] = useState<{ image: Rgba; objective: [number, number]; ms: number }>();
  const [steps, setSteps] = useState(64);
  const [progress, setProgress] = useState<[number, number]>();

  useEffect(() => {
    setMaps(undefined);
    setChannel(undefined);
  }, [props.model, props.pixels]);

  async function show(name: string) {
    setLayer(name);
    setChannel(undefined);
    try {
      const r = await worker.request({ kind: 'featureMaps', pixels: props.pixels, layer: name });
      if (r.kind === 'featureMaps') setMaps(r);
    } catch (e) {
      props.onError((e as Error).message);
    }
  }

  const indexed = props.index?.model.sha256 === props.model.sha256 ? props.index : undefined;
  const indexLayer = indexed?.layers.findIndex((l) => l.name === layer) ?? -1;
  const patches = indexed && indexLayer >= 0 && indexed.layers[indexLayer].field ? indexed.top : 0;

  async function pick(k: number) {
    setChannel(k);
    setVisual(undefined);
    exposed.channel = { layer, channel: k, patches };
    const r = await worker.request({ kind: 'filter', layer, channel: k });
    if (r.kind === 'filter') {
      setFilter(r);
      exposed.channel = { ...exposed.channel, filter: r.filter };
    }
  }

  async function visualize(k: number) {
    setProgress([0, steps]);
    try {
      const r = await worker.request(
        { kind: 'visualize', layer, channel: k, steps },
        undefined,
        (done, total) => setProgress([done, total]),
      );
      if (r.kind === 'visualized') {
        setVisual(r);
        exposed.channel = { ...exposed.channel!, objective: r.objective };
      }
    } catch (e) {
      if ((e as Error).message !== 'cancelled') props.onError((e as Error).message);
    }
    setProgress(undefined);
  }

  let range: [number, number] = [0, 1];
  if (maps) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of maps.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    range = [lo, hi];
  }
  const info = props.model.layers.find((l) => l.tensor === layer);
  return (
    <section aria-label="layers">
      <h2>Layers</h2>
      <select aria-label="layer" value={layer} onChange={(e) => show((e.target as HTMLSelectElement).value)}>
        {spatial.map((l) => (
          <option value={l.tensor}>
            {l.tensor} ({l.opType}, {l.shape.slice(1).join('×')})
          </option>
        ))}
      </select>{' '}
      <button type="button" onClick={() => show(layer)}>
        show feature maps
      </button>{' '}
      {info?.field && (
        <span class="facts">
          receptive field {info.field === 'global' ? 'the whole image' : `${info.field.join('×')} px`}
        </span>
      )}
      {maps && (
        <div class="grid tiles">
          {Array.from({ length: maps.channels }, (_, k) => (
            <figure class={`tile${k === channel ? ' chosen' : ''}`}>
              <button type="button" class="tile" aria-label={`channel ${k}`} onClick={() => pick(k)}>
                <Picture
                  img={channelImage(maps.data, k, maps.height, maps.width, ...range)}
                  size={64}
                  label={`channel ${k}`}
                />
              </button>
              <figcaption>{k}</figcaption>
            </figure>
          ))}
        </div>
      )}
      {channel !== undefined && (
        <section class="unit" aria-label="channel detail">
          <h3>
            {layer} · channel {channel}
          </h3>
          <div class="grid">
            <figure>
              {filter?.filter ? (
                <div class="grid filter">
                  {filterImages(filter.filter).map((img, k) => (
                    <Picture img={img} size={filter.filter!.dims[0] === 3 ? 96 : 32} label={`weights ${k}`} />
                  ))}
                </div>
              ) : (
                <p class="facts">{filter?.why ?? '…'}</p>
              )}
              <figcaption>
                {filter?.filter
                  ? `filter of ${filter.filter.conv}: ${filter.filter.dims.join('×')}${filter.filter.dims[0] > 32 && filter.filter.dims[0] !== 3 ? ' (first 32 inputs)' : ''}`
                  : 'filter'}
              </figcaption>
            </figure>
            <figure>
              {visual ? (
                <Picture img={visual.image} size={128} label="feature visualisation" />
              ) : (
                <button type="button" onClick={() => visualize(channel)} disabled={!!progress}>
                  visualise
                </button>
              )}
              {progress && <progress value={progress[0]} max={progress[1]} />}
              <figcaption>
                {visual ? (
                  `activation ${visual.objective[0].toPrecision(3)} → ${visual.objective[1].toPrecision(3)} in ${steps} steps, ${Math.round(visual.ms)} ms`
                ) : (
                  <label>
                    steps{' '}
                    <input
                      type="number"
                      aria-label="visualisation steps"
                      min={1}
                      max={2000}
                      value={steps}
                      style={{ width: '5em' }}
                      onInput={(e) =>
                        setSteps(Math.max(1, Number((e.target as HTMLInputElement).value) || 1))
                      }
                    />
                  </label>
                )}
              </figcaption>
            </figure>
            <figure aria-label="top patches">
              {patches > 0 ? (
                <div class="grid patches">
                  {Array.from({ length: patches }, (_, k) => (
                    <img
                      src={`/api/patch/${indexLayer}/${channel}/${k}.png`}
                      alt={`top patch ${k + 1}`}
                      width={56}
                      height={56}
                    />
                  ))}
                </div>
              ) : (
                <p class="facts">
                  {indexed
                    ? `the scan index ${indexed.file} has no receptive-field patches of ${layer}`
                    : 'top dataset patches: start `convlens serve --index` with a scan index of this model'}
                </p>
              )}
              <figcaption>
                {patches > 0 &&
                  `top ${patches} of ${indexed!.scanned} ${indexed!.data} images (${indexed!.file})`}
              </figcaption>
            </figure>
          </div>
        </section>
      )}
    </section>
  );
}
