/** The Explain section's controls: method parameters, the CAM layer, colormap and opacity. */
import type { Settings } from './settings.js';

const COLORMAPS = ['', 'jet', 'turbo', 'viridis', 'inferno', 'grey'];

function NumberField(props: {
  label: string;
  value: number;
  step?: number;
  min?: number;
  onChange(v: number): void;
}) {
  return (
    <label>
      {props.label}{' '}
      <input
        type="number"
        aria-label={props.label}
        value={props.value}
        step={props.step ?? 1}
        min={props.min ?? 0}
        style={{ width: '5em' }}
        onChange={(e) => {
          const v = Number((e.target as HTMLInputElement).value);
          if (Number.isFinite(v) && v >= (props.min ?? 0)) props.onChange(v);
        }}
      />
    </label>
  );
}

export function Controls(props: {
  settings: Settings;
  layers: string[];
  onChange(s: Settings): void;
  onLook(s: Settings): void;
}) {
  const s = props.settings;
  const set = (patch: Partial<Settings>) => props.onChange({ ...s, ...patch });
  return (
    <div class="controls">
      <fieldset>
        <legend>Integrated Gradients</legend>
        <NumberField
          label="IG steps"
          value={s.ig.steps}
          min={1}
          onChange={(steps) => set({ ig: { ...s.ig, steps } })}
        />{' '}
        <label>
          baseline{' '}
          <select
            aria-label="IG baseline"
            value={s.ig.baseline}
            onChange={(e) =>
              set({ ig: { ...s.ig, baseline: (e.target as HTMLSelectElement).value as 'zero' | 'blur' } })
            }
          >
            <option value="zero">zero</option>
            <option value="blur">blur</option>
          </select>
        </label>
      </fieldset>
      <fieldset>
        <legend>SmoothGrad</legend>
        <NumberField
          label="samples"
          value={s.smoothgrad.samples}
          min={1}
          onChange={(samples) => set({ smoothgrad: { ...s.smoothgrad, samples } })}
        />{' '}
        <NumberField
          label="σ"
          value={s.smoothgrad.sigma}
          step={0.05}
          onChange={(sigma) => set({ smoothgrad: { ...s.smoothgrad, sigma } })}
        />
      </fieldset>
      <fieldset>
        <legend>occlusion (0: automatic)</legend>
        <NumberField
          label="window"
          value={s.occlusion.window}
          onChange={(window) => set({ occlusion: { ...s.occlusion, window } })}
        />{' '}
        <NumberField
          label="stride"
          value={s.occlusion.stride}
          onChange={(stride) => set({ occlusion: { ...s.occlusion, stride } })}
        />
      </fieldset>
      <fieldset>
        <legend>CAM layer</legend>
        <select
          aria-label="CAM layer"
          value={s.layer}
          onChange={(e) => set({ layer: (e.target as HTMLSelectElement).value })}
        >
          <option value="">the model's feature map</option>
          {props.layers.map((l) => (
            <option value={l}>{l}</option>
          ))}
        </select>
      </fieldset>
      <fieldset>
        <legend>look</legend>
        <label>
          colormap{' '}
          <select
            aria-label="colormap"
            value={s.look.colormap}
            onChange={(e) =>
              props.onLook({ ...s, look: { ...s.look, colormap: (e.target as HTMLSelectElement).value } })
            }
          >
            {COLORMAPS.map((c) => (
              <option value={c}>{c || 'per method'}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          opacity{' '}
          <input
            type="range"
            aria-label="opacity"
            min={0}
            max={1}
            step={0.05}
            value={s.look.alpha}
            onChange={(e) =>
              props.onLook({ ...s, look: { ...s.look, alpha: Number((e.target as HTMLInputElement).value) } })
            }
          />
        </label>
      </fieldset>
    </div>
  );
}
