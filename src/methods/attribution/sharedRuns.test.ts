import { describe, expect, it } from 'vitest';
import type { GradientRowsRequest } from './pipeline.js';
import { memberResult, requestKey, shareRuns } from './sharedRuns.js';

const saliency: GradientRowsRequest = { wrt: ['x'], reluRule: 'vanilla' };
const guided: GradientRowsRequest = { wrt: ['x'], reluRule: 'guided' };
const deconvnet: GradientRowsRequest = { wrt: ['x'], reluRule: 'deconvnet' };
const layer: GradientRowsRequest = { wrt: ['block'], outputs: ['block'] };
const below: GradientRowsRequest = { wrt: ['conv'], outputs: ['conv'] };
/** Only the last block's gradient is the same under every ReLU rule. */
const ruleFree = (r: GradientRowsRequest) => r.wrt.every((w) => w === 'block');

describe('shareRuns', () => {
  it.each<[string, GradientRowsRequest[], [GradientRowsRequest, GradientRowsRequest[]][]]>([
    ['one request', [guided], [[{ wrt: ['x'], reluRule: 'guided' }, [guided]]]],
    [
      'the layer joins the guided run',
      [guided, layer],
      [[{ wrt: ['x', 'block'], outputs: ['block'], reluRule: 'guided' }, [guided, layer]]],
    ],
    [
      'the layer stays with its own rule when that rule runs',
      [guided, layer, saliency],
      [
        [{ wrt: ['x'], reluRule: 'guided' }, [guided]],
        [{ wrt: ['block', 'x'], outputs: ['block'] }, [layer, saliency]],
      ],
    ],
    [
      'duplicates are one request',
      [layer, { wrt: ['block'], outputs: ['block'], reluRule: 'vanilla' }, layer],
      [[{ wrt: ['block'], outputs: ['block'] }, [layer]]],
    ],
    [
      'a layer the rule changes keeps its rule',
      [guided, below],
      [
        [{ wrt: ['x'], reluRule: 'guided' }, [guided]],
        [{ wrt: ['conv'], outputs: ['conv'] }, [below]],
      ],
    ],
    [
      'three rules, three runs',
      [saliency, guided, deconvnet, layer, below],
      [
        [{ wrt: ['x', 'block', 'conv'], outputs: ['block', 'conv'] }, [saliency, layer, below]],
        [{ wrt: ['x'], reluRule: 'guided' }, [guided]],
        [{ wrt: ['x'], reluRule: 'deconvnet' }, [deconvnet]],
      ],
    ],
  ])('%s', (_, requests, expected) => {
    const runs = shareRuns(requests, ruleFree);
    expect(runs.map((r) => [r.request, r.members])).toEqual(expected);
  });

  it('keys a request by its tensors and rule, vanilla by default', () => {
    expect(requestKey({ wrt: ['x'] })).toBe(requestKey({ wrt: ['x'], outputs: [], reluRule: 'vanilla' }));
    expect(requestKey(guided)).not.toBe(requestKey(saliency));
  });

  it('gives each member the gradients and outputs it asked for', () => {
    const g = new Float32Array([1]);
    const a = new Float32Array([2]);
    const l = new Float32Array([3]);
    const all = { gradients: { x: g, block: l }, outputs: { block: a } };
    expect(memberResult(all, guided)).toEqual({ gradients: { x: g }, outputs: {} });
    expect(memberResult(all, layer)).toEqual({ gradients: { block: l }, outputs: { block: a } });
  });
});
