/**
 * The inverse half-spectrum DFT of `maths/fourier.ts` and its adjoint, either in JavaScript or as
 * two small onnxruntime graphs of MatMuls (the same sums as dense products with cosine/sine
 * matrices, which run at BLAS speed: at 224 px the JavaScript loops cost more than a ResNet-18
 * forward + backward).
 *
 * With A, B the real and imaginary parts [P, H, Wf], Cy[y, u] = cos 2πuy/H, Sy likewise, and
 * Cx[v, x] = m_v cos 2πvx/W, Sx likewise:
 *   forward  X = (Cy·A − Sy·B)·Cx − (Sy·A + Cy·B)·Sx
 *   adjoint  Gr = G·Cxᵀ, Gi = −G·Sxᵀ;  A′ = Cyᵀ·Gr + Syᵀ·Gi,  B′ = Cyᵀ·Gi − Syᵀ·Gr
 */
import { halfSpectrum, inverseHalfSpectrum, inverseHalfSpectrumAdjoint } from '../../maths/fourier.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32 } from '../../onnx/tensor.js';
import type { InferenceBackend, SessionOptions } from '../../runtime/backend.js';
import { ConvlensModel } from '../../runtime/model.js';

export interface SpectrumTransform {
  /** Image planes [P, H, W] from half spectra [P, H, Wf, 2]. */
  inverse(spectrum: Float32Array, planes: number): Promise<Float32Array>;
  /** Spectrum gradients [P, H, Wf, 2] from image gradients [P, H, W]. */
  adjoint(grad: Float32Array, planes: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The JavaScript transform (no runtime needed). */
export function jsSpectrum(h: number, w: number): SpectrumTransform {
  const t = halfSpectrum(h, w);
  return {
    inverse: async (z, planes) => inverseHalfSpectrum(t, z, planes),
    adjoint: async (g, planes) => inverseHalfSpectrumAdjoint(t, g, planes),
    release: async () => {},
  };
}

/**
 * The same transform run by onnxruntime.
 *
 * @example
 * ```ts
 * const dft = onnxSpectrum(224, 224, nodeBackend());
 * const planes = await dft.inverse(spectrum, 3);
 * ```
 */
export function onnxSpectrum(
  h: number,
  w: number,
  backend: InferenceBackend,
  sessionOptions: SessionOptions = {},
): SpectrumTransform {
  const t = halfSpectrum(h, w);
  const wf = t.wf;
  const matrix = (rows: number, cols: number, at: (r: number, c: number) => number) =>
    float32(
      Float32Array.from({ length: rows * cols }, (_, i) => at(Math.floor(i / cols), i % cols)),
      [rows, cols],
    );
  // Cy[y, u] = cos 2πuy/H is symmetric, so Cyᵀ = Cy (and Syᵀ = Sy).
  const cy = matrix(h, h, (y, u) => t.cosY[u * h + y]);
  const sy = matrix(h, h, (y, u) => t.sinY[u * h + y]);
  const cx = matrix(wf, w, (v, x) => t.multiplicity[v] * t.cosX[v * w + x]);
  const sx = matrix(wf, w, (v, x) => t.multiplicity[v] * t.sinX[v * w + x]);
  const transpose = (m: ReturnType<typeof matrix>) =>
    matrix(m.dims[1], m.dims[0], (r, c) => (m.data as Float32Array)[c * m.dims[1] + r]);

  const forwardGraph = new GraphBuilder();
  {
    const b = forwardGraph;
    const [a, im] = [b.input('a', ['P', h, wf]), b.input('b', ['P', h, wf])];
    const [Cy, Sy, Cx, Sx] = [b.param('cy', cy), b.param('sy', sy), b.param('cx', cx), b.param('sx', sx)];
    const mm = (x: string, y: string) => b.op1('MatMul', [x, y]);
    const yr = b.op1('Sub', [mm(Cy, a), mm(Sy, im)]);
    const yi = b.op1('Add', [mm(Sy, a), mm(Cy, im)]);
    b.named(b.op1('Sub', [mm(yr, Cx), mm(yi, Sx)]), 'x');
  }
  const adjointGraph = new GraphBuilder();
  {
    const b = adjointGraph;
    const g = b.input('g', ['P', h, w]);
    const [Cy, Sy, CxT, SxT] = [
      b.param('cy', cy),
      b.param('sy', sy),
      b.param('cxT', transpose(cx)),
      b.param('sxT', transpose(sx)),
    ];
    const mm = (x: string, y: string) => b.op1('MatMul', [x, y]);
    const gr = mm(g, CxT);
    const gi = b.op1('Neg', [mm(g, SxT)]);
    b.named(b.op1('Add', [mm(Cy, gr), mm(Sy, gi)]), 'da');
    b.named(b.op1('Sub', [mm(Cy, gi), mm(Sy, gr)]), 'db');
  }
  const forward = new ConvlensModel(forwardGraph.build(['x']), backend, sessionOptions);
  const adjoint = new ConvlensModel(adjointGraph.build(['da', 'db']), backend, sessionOptions);
  const cells = h * wf;
  return {
    async inverse(z, planes) {
      const a = new Float32Array(planes * cells);
      const im = new Float32Array(planes * cells);
      for (let i = 0; i < planes * cells; i++) {
        a[i] = z[2 * i];
        im[i] = z[2 * i + 1];
      }
      const out = await forward.run({ a: float32(a, [planes, h, wf]), b: float32(im, [planes, h, wf]) });
      return out.x.data as Float32Array;
    },
    async adjoint(g, planes) {
      const out = await adjoint.run(float32(g, [planes, h, w]));
      const [da, db] = [out.da.data as Float32Array, out.db.data as Float32Array];
      const z = new Float32Array(planes * cells * 2);
      for (let i = 0; i < planes * cells; i++) {
        z[2 * i] = da[i];
        z[2 * i + 1] = db[i];
      }
      return z;
    },
    async release() {
      await Promise.all([forward.release(), adjoint.release()]);
    },
  };
}
