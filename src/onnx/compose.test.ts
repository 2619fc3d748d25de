import { describe, expect, it } from 'vitest';
import { modelLoader } from '../runtime/testModels.js';
import { GraphBuilder } from './builder.js';
import { appendModel } from './compose.js';
import { float32 } from './tensor.js';

const load = modelLoader();

/** y = 2x + 1 on [2]. */
function host(opset = 13) {
  const b = new GraphBuilder({ opset });
  const x = b.input('x', [2]);
  const y = b.named(b.add(b.mul(x, b.param('two', float32([2, 2]))), b.param('one', float32([1, 1]))), 'y');
  return b.build([y]);
}

/** z = a · a on [2]; its tensors clash with the host's names on purpose. */
function guest(opset = 13) {
  const b = new GraphBuilder({ opset });
  const a = b.input('a', [2]);
  const z = b.named(b.mul(a, a), 'y');
  return b.build([z]);
}

describe('appendModel', () => {
  it('renames the guest under a prefix and wires its input to a host tensor', async () => {
    const m = host();
    const rename = appendModel(m, guest(), { prefix: 'g/', inputs: { a: 'y' } });
    expect(rename('y')).toBe('g/y');
    expect(rename('a')).toBe('y');
    m.graph.outputs = [{ name: 'y' }, { name: 'g/y' }];
    const out = await (await load(m)).run(float32([1, -2], [2]), { outputs: ['y', 'g/y'] });
    expect(Array.from(out.y.data as Float32Array)).toEqual([3, -3]);
    expect(Array.from(out['g/y'].data as Float32Array)).toEqual([9, 9]);
  });

  it.each([
    [
      'opsets differ',
      () => appendModel(host(13), guest(11), { prefix: 'g/', inputs: { a: 'y' } }),
      /opset 11 into one of opset 13/,
    ],
    [
      'an input is not wired',
      () => appendModel(host(), guest(), { prefix: 'g/', inputs: {} }),
      /input "a" of the appended model is not wired/,
    ],
    [
      'a wired input does not exist',
      () => appendModel(host(), guest(), { prefix: 'g/', inputs: { a: 'y', b: 'x' } }),
      /has no input "b"; its inputs: a/,
    ],
    [
      'names clash without a prefix',
      () => appendModel(host(), guest(), { prefix: '', inputs: { a: 'x' } }),
      /tensor "y" exists in both models/,
    ],
  ])('refuses when %s', (_, compose, error) => {
    expect(compose).toThrow(error);
  });
});
