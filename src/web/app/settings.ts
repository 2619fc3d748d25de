/** The explorer's method settings and look, and their round trip through the URL hash (shareable state). */
import { findMethod } from '../../methods/attribution/index.js';
import type { Look } from './protocol.js';

export interface Settings {
  ig: { steps: number; baseline: 'zero' | 'blur' };
  smoothgrad: { samples: number; sigma: number };
  occlusion: { window: number; stride: number };
  /** The feature map CAM methods read ('' = the card's, else the last). */
  layer: string;
  look: Look & { colormap: string; alpha: number };
}

const defaults = (method: string) => findMethod(method).defaults as Record<string, number>;

/** The library's own defaults, so the page's maps are those of `convlens explain`. */
export const DEFAULT_SETTINGS: Settings = {
  ig: { steps: defaults('ig').steps, baseline: 'zero' },
  smoothgrad: { samples: defaults('smoothgrad').samples, sigma: defaults('smoothgrad').sigma },
  occlusion: { window: defaults('occlusion').window, stride: defaults('occlusion').stride },
  layer: '',
  look: { colormap: '', alpha: 0.5 },
};

/** Method parameters for explain, from the settings. */
export const methodParams = (s: Settings): Record<string, object> => ({
  ig: s.ig,
  smoothgrad: s.smoothgrad,
  occlusion: s.occlusion,
});

/** What the hash holds: the model's name, the target and the settings. */
export interface PageState {
  model?: string;
  target?: number;
  settings: Settings;
}

export function encodeState(state: PageState): string {
  return `#${encodeURIComponent(JSON.stringify(state))}`;
}

/** The state in a hash, merged over the defaults; undefined when there is none or it is not ours. */
export function decodeState(hash: string): PageState | undefined {
  if (hash.length < 2) return undefined;
  try {
    const s = JSON.parse(decodeURIComponent(hash.slice(1))) as Partial<PageState>;
    const given = (s.settings ?? {}) as Partial<Settings>;
    return {
      model: typeof s.model === 'string' ? s.model : undefined,
      target: Number.isInteger(s.target) ? s.target : undefined,
      settings: {
        ig: { ...DEFAULT_SETTINGS.ig, ...given.ig },
        smoothgrad: { ...DEFAULT_SETTINGS.smoothgrad, ...given.smoothgrad },
        occlusion: { ...DEFAULT_SETTINGS.occlusion, ...given.occlusion },
        layer: typeof given.layer === 'string' ? given.layer : '',
        look: { ...DEFAULT_SETTINGS.look, ...given.look },
      },
    };
  } catch {
    return undefined;
  }
}
