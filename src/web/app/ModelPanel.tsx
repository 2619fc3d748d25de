/** The model's facts and its editable preprocessing: layers with shapes and receptive fields; size, layout, normalisation, labels. */
import { useState } from 'preact/hooks';
import type { ModelInfo } from './protocol.js';

/** Preprocessing a user sets over the card's. */
export interface Overrides {
  size?: number[];
  layout?: 'nchw' | 'nhwc';
  mean?: number[];
  std?: number[];
  classes?: string[];
}

const numbers = (text: string) =>
  text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

export function ModelPanel(props: {
  model: ModelInfo;
  onApply(overrides: Overrides): void;
  onError(message: string): void;
}) {
  const p = props.model.preprocessing;
  const [size, setSize] = useState(p.size.join(','));
  const [layout, setLayout] = useState(p.layout ?? 'nchw');
  const [mean, setMean] = useState(p.mean.join(', '));
  const [std, setStd] = useState(p.std.join(', '));
  const [classes, setClasses] = useState<string[]>();

  function apply(e: Event) {
    e.preventDefault();
    const s = numbers(size);
    const m = numbers(mean);
    const d = numbers(std);
    if (s.length < 1 || s.length > 2 || s.some((n) => !Number.isInteger(n) || n <= 0))
      return props.onError(`size "${size}" is not H,W in positive whole pixels`);
    for (const [what, v] of [
      ['mean', m],
      ['std', d],
    ] as const)
      if (v.length !== 1 && v.length !== p.channels)
        return props.onError(
          `${what} needs 1 or ${p.channels} numbers, got "${what === 'mean' ? mean : std}"`,
        );
    if (m.some((v) => !Number.isFinite(v)) || d.some((v) => !(v > 0)))
      return props.onError('mean must be numbers and std positive numbers');
    props.onApply({ size: s.length === 1 ? [s[0], s[0]] : s, layout, mean: m, std: d, classes });
  }

  return (
    <section aria-label="model">
      <h2>Model</h2>
      <form class="controls" onSubmit={apply}>
        <label>
          size (H,W){' '}
          <input
            aria-label="model size"
            value={size}
            style={{ width: '6em' }}
            onInput={(e) => setSize((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          layout{' '}
          <select
            aria-label="model layout"
            value={layout}
            onChange={(e) => setLayout((e.target as HTMLSelectElement).value as 'nchw' | 'nhwc')}
          >
            <option value="nchw">NCHW</option>
            <option value="nhwc">NHWC</option>
          </select>
        </label>
        <label>
          mean{' '}
          <input
            aria-label="model mean"
            value={mean}
            style={{ width: '10em' }}
            onInput={(e) => setMean((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          std{' '}
          <input
            aria-label="model std"
            value={std}
            style={{ width: '10em' }}
            onInput={(e) => setStd((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          labels (one per line){' '}
          <input
            type="file"
            aria-label="labels file"
            accept=".txt,text/plain"
            onChange={async (e) => {
              const input = e.target as HTMLInputElement;
              const f = input.files?.[0];
              input.value = ''; // the same file chosen again is a new choice
              if (f)
                setClasses(
                  (await f.text())
                    .split(/\r?\n/)
                    .map((l) => l.trim())
                    .filter(Boolean),
                );
            }}
          />
        </label>
        {classes && <span class="facts">{classes.length} labels read</span>}
        <button type="submit">apply</button>
      </form>
      <details>
        <summary>
          {props.model.layers.length} layers
          {props.model.carded ? '' : ' (no convlens card: preprocessing as set here)'}
        </summary>
        <table class="layers">
          <thead>
            <tr>
              <th>tensor</th>
              <th>op</th>
              <th>shape</th>
              <th>receptive field</th>
            </tr>
          </thead>
          <tbody>
            {props.model.layers.map((l) => (
              <tr>
                <td>{l.tensor}</td>
                <td>{l.opType}</td>
                <td>{l.shape.join('×')}</td>
                <td>{l.field === 'global' ? 'whole image' : l.field ? `${l.field.join('×')} px` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
