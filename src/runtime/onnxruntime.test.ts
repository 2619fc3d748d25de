import { describe, expect, it } from 'vitest';
import { OrtBackend, type OrtModule } from './onnxruntime.js';

/** An onnxruntime stand-in whose session creation records its options and fails like a missing GPU runtime. */
function failingOrt(seen: Record<string, unknown>[]): OrtModule {
  return {
    InferenceSession: {
      create: async (_model, options) => {
        seen.push(options ?? {});
        throw new Error(
          'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library\nstack…',
        );
      },
    },
    Tensor: class {} as unknown as OrtModule['Tensor'],
  };
}

describe('OrtBackend', () => {
  it('defaults to its first provider and passes threads and spinning to onnxruntime', async () => {
    const seen: Record<string, unknown>[] = [];
    const b = new OrtBackend('fake', failingOrt(seen), ['wasm', 'webgpu']);
    await expect(b.createSession(new Uint8Array(), { threads: 3 })).rejects.toThrow(/Failed to load/);
    expect(seen[0]).toMatchObject({
      executionProviders: ['wasm'],
      intraOpNumThreads: 3,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  });

  it.each([
    ['within-run', { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' }],
    ['always', { intra_op: { allow_spinning: '1' } }],
    ['never', { intra_op: { allow_spinning: '0' } }],
    // A bare session has no run size to choose by: 'auto' sleeps (ConvlensModel resolves it first).
    ['auto', { intra_op: { allow_spinning: '0' } }],
  ] as const)('passes spinning %s to onnxruntime as its session config', async (spinning, config) => {
    const seen: Record<string, unknown>[] = [];
    const b = new OrtBackend('fake', failingOrt(seen), ['cpu']);
    await expect(b.createSession(new Uint8Array(), { spinning })).rejects.toThrow(/Failed to load/);
    expect((seen[0].extra as { session: unknown }).session).toEqual(config);
  });

  it('refuses an unknown spinning mode, naming the allowed ones', async () => {
    const b = new OrtBackend('fake', failingOrt([]), ['cpu']);
    await expect(
      b.createSession(new Uint8Array(), { spinning: 'sometimes' as unknown as 'never' }),
    ).rejects.toThrow('spinning must be one of auto, within-run, always, never; got "sometimes"');
  });

  it('gives sessions that choose no thread count the backend default, and lets them override it', async () => {
    const seen: Record<string, unknown>[] = [];
    const b = new OrtBackend('fake', failingOrt(seen), ['cpu'], 1);
    await expect(b.createSession(new Uint8Array())).rejects.toThrow(/Failed to load/);
    await expect(b.createSession(new Uint8Array(), { threads: 2 })).rejects.toThrow(/Failed to load/);
    expect(seen.map((o) => o.intraOpNumThreads)).toEqual([1, 2]);
    const none: Record<string, unknown>[] = [];
    await expect(
      new OrtBackend('fake', failingOrt(none), ['cpu']).createSession(new Uint8Array()),
    ).rejects.toThrow();
    expect(none[0]).not.toHaveProperty('intraOpNumThreads');
  });

  it('names an accelerator that cannot start, the cause and what it needs', async () => {
    const b = new OrtBackend('fake', failingOrt([]), ['cpu', 'cuda']);
    await expect(b.createSession(new Uint8Array(), { executionProviders: ['cuda', 'cpu'] })).rejects.toThrow(
      /^execution provider "cuda" could not start in fake: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library \(cuda needs an NVIDIA GPU/,
    );
  });

  it('refuses a provider the build does not have, listing those it has', async () => {
    const b = new OrtBackend('fake', failingOrt([]), ['cpu', 'cuda']);
    await expect(b.createSession(new Uint8Array(), { executionProviders: ['webgpu'] })).rejects.toThrow(
      'execution provider "webgpu" is not available in fake; available: cpu, cuda',
    );
  });
});
