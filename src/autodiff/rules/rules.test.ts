import { describe, expect, it } from 'vitest';
import { Random } from '../../maths/random.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { float32, int64 } from '../../onnx/tensor.js';
import { nodeBackend } from '../../runtime/node.js';
import { webBackend } from '../../runtime/web.js';
import { checkGradients, type Sampler, samplers } from '../gradcheck.js';
import type { ReluRule } from '../rule.js';

interface Case {
  name: string;
  opset?: number;
  /** Graph inputs and their shapes. */
  inputs: Record<string, number[]>;
  /** Builds the op(s) from the inputs; returns the objective tensor. Params made with `p` are checked too. */
  build: (b: GraphBuilder, p: (name: string, dims: number[], sampler?: Sampler) => string) => string;
  samplers?: Record<string, Sampler>;
  reluRule?: ReluRule;
}

const away = samplers.awayFromZero;
const pos = samplers.positive;
const distinct = samplers.distinct;
/** Uniform on [lo, hi] avoiding a margin around each kink. */
const avoiding =
  (lo: number, hi: number, kinks: number[], margin = 0.15): Sampler =>
  (rng, n) =>
    Float32Array.from({ length: n }, () => {
      for (;;) {
        const v = rng.uniform(lo, hi);
        if (kinks.every((k) => Math.abs(v - k) > margin)) return v;
      }
    });

const x4 = (c = 2, h = 5, w = 5, n = 2) => ({ x: [n, c, h, w] });
const i64 = (v: number[]) => int64(v);

const conv =
  (attrs: Record<string, unknown>, w: number[], bias = true): Case['build'] =>
  (b, p) =>
    b.op1('Conv', ['x', p('W', w), ...(bias ? [p('B', [w[0]])] : [])], attrs as never);
const unary =
  (op: string, attrs: Record<string, unknown> = {}): Case['build'] =>
  (b) =>
    b.op1(op, ['x'], attrs as never);
const binary =
  (op: string): Case['build'] =>
  (b) =>
    b.op1(op, ['a', 'b']);

const CASES: Case[] = [
  // Conv: strides, pads, auto_pad, dilations, groups (incl. depthwise), 1-D, rectangular kernels.
  { name: 'Conv 3x3 pad 1', inputs: x4(2, 6, 6), build: conv({ pads: [1, 1, 1, 1] }, [3, 2, 3, 3]) },
  {
    name: 'Conv 3x3 stride 2 pad 1 odd size',
    inputs: x4(2, 7, 7),
    build: conv({ strides: [2, 2], pads: [1, 1, 1, 1] }, [3, 2, 3, 3]),
  },
  {
    name: 'Conv 3x3 stride 2 no pad even size',
    inputs: x4(2, 8, 8),
    build: conv({ strides: [2, 2] }, [3, 2, 3, 3]),
  },
  {
    name: 'Conv dilation 2',
    inputs: x4(2, 8, 8),
    build: conv({ dilations: [2, 2], pads: [2, 2, 2, 2] }, [3, 2, 3, 3]),
  },
  {
    name: 'Conv dilation 2 stride 2',
    inputs: x4(2, 9, 9),
    build: conv({ dilations: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 2, 3, 3]),
  },
  { name: 'Conv groups 2', inputs: x4(4, 6, 6), build: conv({ group: 2, pads: [1, 1, 1, 1] }, [6, 2, 3, 3]) },
  {
    name: 'Conv depthwise stride 2 odd',
    inputs: x4(4, 7, 7),
    build: conv({ group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, [4, 1, 3, 3]),
  },
  {
    name: 'Conv depthwise multiplier 2',
    inputs: x4(2, 5, 5),
    build: conv({ group: 2, pads: [1, 1, 1, 1] }, [4, 1, 3, 3]),
  },
  {
    name: 'Conv groups 4 dilation 2',
    inputs: x4(4, 9, 9),
    build: conv({ group: 4, dilations: [2, 2], pads: [2, 2, 2, 2] }, [8, 1, 3, 3]),
  },
  {
    name: 'Conv SAME_UPPER stride 2',
    inputs: x4(2, 7, 7),
    build: conv({ auto_pad: 'SAME_UPPER', strides: [2, 2] }, [3, 2, 4, 4]),
  },
  { name: 'Conv SAME_LOWER', inputs: x4(2, 6, 6), build: conv({ auto_pad: 'SAME_LOWER' }, [3, 2, 4, 4]) },
  {
    name: 'Conv VALID stride 3',
    inputs: x4(2, 8, 8),
    build: conv({ auto_pad: 'VALID', strides: [3, 3] }, [3, 2, 3, 3]),
  },
  { name: 'Conv asymmetric pads', inputs: x4(2, 6, 6), build: conv({ pads: [0, 1, 2, 0] }, [3, 2, 3, 3]) },
  {
    name: 'Conv 1x1 pad 1 (pads beyond kernel)',
    inputs: x4(2, 4, 4),
    build: conv({ pads: [1, 1, 1, 1] }, [3, 2, 1, 1]),
  },
  {
    name: 'Conv rectangular 3x1 stride (2,1)',
    inputs: x4(2, 7, 5),
    build: conv({ strides: [2, 1], pads: [1, 0, 1, 0] }, [3, 2, 3, 1]),
  },
  { name: 'Conv no bias', inputs: x4(2, 5, 5), build: conv({}, [3, 2, 3, 3], false) },
  {
    name: 'Conv 1-D stride 2',
    inputs: { x: [2, 3, 9] },
    build: conv({ strides: [2], pads: [1, 1] }, [4, 3, 3]),
  },
  // ConvTranspose: strides, pads, output_padding, groups, dilations.
  {
    name: 'ConvTranspose stride 2 pad 1 output_padding 1',
    inputs: x4(3, 4, 4),
    build: (b, p) =>
      b.op1('ConvTranspose', ['x', p('W', [3, 2, 3, 3]), p('B', [2])], {
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        output_padding: [1, 1],
      }),
  },
  {
    name: 'ConvTranspose groups 2 dilation 2',
    inputs: x4(4, 4, 4),
    build: (b, p) =>
      b.op1('ConvTranspose', ['x', p('W', [4, 1, 3, 3])], { group: 2, dilations: [2, 2], strides: [1, 1] }),
  },
  // Activations.
  { name: 'Relu', inputs: x4(), build: unary('Relu'), samplers: { x: away } },
  { name: 'LeakyRelu', inputs: x4(), build: unary('LeakyRelu', { alpha: 0.1 }), samplers: { x: away } },
  {
    name: 'PRelu per channel',
    inputs: x4(),
    build: (b, p) => b.op1('PRelu', ['x', p('S', [2, 1, 1])]),
    samplers: { x: away },
  },
  {
    name: 'Clip as ReLU6 (inputs)',
    inputs: x4(),
    build: (b) => b.relu6('x'),
    samplers: { x: avoiding(-2, 8, [0, 6]) },
  },
  {
    name: 'Clip [-1, 1] opset 10 attributes',
    opset: 10,
    inputs: x4(),
    build: unary('Clip', { min: -1, max: 1 }),
    samplers: { x: avoiding(-2, 2, [-1, 1]) },
  },
  {
    name: 'Clip min only',
    inputs: x4(),
    build: (b) => b.op1('Clip', ['x', b.param('lo', float32([-0.5], []))]),
    samplers: { x: avoiding(-2, 2, [-0.5]) },
  },
  { name: 'Sigmoid', inputs: x4(), build: unary('Sigmoid') },
  { name: 'Tanh', inputs: x4(), build: unary('Tanh') },
  {
    name: 'HardSigmoid',
    inputs: x4(),
    build: unary('HardSigmoid', { alpha: 0.3, beta: 0.4 }),
    samplers: { x: avoiding(-4, 4, [-4 / 3, 2]) },
  },
  {
    name: 'HardSwish',
    opset: 14,
    inputs: x4(),
    build: unary('HardSwish'),
    samplers: { x: avoiding(-5, 5, [-3, 3]) },
  },
  { name: 'Elu', inputs: x4(), build: unary('Elu', { alpha: 0.7 }), samplers: { x: away } },
  { name: 'Softplus', inputs: x4(), build: unary('Softplus') },
  { name: 'Erf', inputs: x4(), build: unary('Erf') },
  { name: 'Gelu exact (opset 20)', opset: 20, inputs: x4(), build: unary('Gelu') },
  { name: 'Gelu tanh (opset 20)', opset: 20, inputs: x4(), build: unary('Gelu', { approximate: 'tanh' }) },
  { name: 'Exp', inputs: x4(), build: unary('Exp') },
  { name: 'Log', inputs: x4(), build: unary('Log'), samplers: { x: pos } },
  { name: 'Sqrt', inputs: x4(), build: unary('Sqrt'), samplers: { x: pos } },
  { name: 'Neg', inputs: x4(), build: unary('Neg') },
  { name: 'Abs', inputs: x4(), build: unary('Abs'), samplers: { x: away } },
  { name: 'Reciprocal', inputs: x4(), build: unary('Reciprocal'), samplers: { x: pos } },
  { name: 'Identity', inputs: x4(), build: unary('Identity') },
  { name: 'Dropout (inference)', inputs: x4(), build: unary('Dropout') },
  { name: 'Cast float→float', inputs: x4(), build: unary('Cast', { to: 1 }) },
  // Elementwise binary with broadcasting.
  { name: 'Add broadcast', inputs: { a: [2, 3, 4, 5], b: [3, 1, 1] }, build: binary('Add') },
  { name: 'Sub broadcast', inputs: { a: [3, 1, 5], b: [2, 3, 4, 1] }, build: binary('Sub') },
  { name: 'Mul broadcast', inputs: { a: [2, 3, 4, 5], b: [1, 3, 1, 5] }, build: binary('Mul') },
  { name: 'Div broadcast', inputs: { a: [2, 3, 4], b: [4] }, build: binary('Div'), samplers: { b: pos } },
  {
    name: 'Pow',
    inputs: { a: [2, 3, 4], b: [3, 1] },
    build: binary('Pow'),
    samplers: { a: pos, b: samplers.uniform(0.5, 2.5) },
  },
  {
    name: 'Sum of 3 broadcast',
    inputs: { a: [2, 3, 4], b: [3, 4], c: [1] },
    build: (b) => b.op1('Sum', ['a', 'b', 'c']),
  },
  {
    name: 'Expand',
    inputs: { x: [3, 1] },
    build: (b) => b.op1('Expand', ['x', b.param('shape', i64([2, 3, 4]))]),
  },
  // MatMul and Gemm.
  { name: 'MatMul 2-D', inputs: { a: [3, 4], b: [4, 5] }, build: binary('MatMul') },
  { name: 'MatMul batched broadcast', inputs: { a: [2, 1, 3, 4], b: [3, 4, 2] }, build: binary('MatMul') },
  { name: 'MatMul 1-D left operand', inputs: { a: [4], b: [2, 4, 3] }, build: binary('MatMul') },
  { name: 'MatMul 1-D right operand', inputs: { a: [2, 3, 4], b: [4] }, build: binary('MatMul') },
  { name: 'MatMul 1-D both (dot product)', inputs: { a: [4], b: [4] }, build: binary('MatMul') },
  ...[0, 1].flatMap((ta) =>
    [0, 1].map(
      (tb): Case => ({
        name: `Gemm transA ${ta} transB ${tb} alpha beta`,
        inputs: { a: ta ? [4, 3] : [3, 4], b: tb ? [5, 4] : [4, 5], c: [5] },
        build: (g) => g.op1('Gemm', ['a', 'b', 'c'], { transA: ta, transB: tb, alpha: 0.7, beta: 1.3 }),
      }),
    ),
  ),
  {
    name: 'Gemm C full',
    inputs: { a: [3, 4], b: [4, 5], c: [3, 5] },
    build: (g) => g.op1('Gemm', ['a', 'b', 'c']),
  },
  // Normalisations.
  {
    name: 'BatchNormalization (inference) with parameters',
    inputs: x4(3, 4, 4),
    build: (b, p) =>
      b.op1(
        'BatchNormalization',
        [
          'x',
          p('scale', [3]),
          p('bias', [3]),
          b.param('mean', float32([0.1, -0.2, 0.3])),
          b.param('var', float32([0.5, 1.2, 2])),
        ],
        {
          epsilon: 1e-3,
        },
      ),
  },
  {
    name: 'InstanceNormalization',
    inputs: x4(3, 4, 4),
    build: (b, p) =>
      b.op1('InstanceNormalization', ['x', p('scale', [3]), p('bias', [3])], { epsilon: 1e-4 }),
  },
  {
    name: 'LayerNormalization last axis',
    opset: 17,
    inputs: { x: [2, 3, 6] },
    build: (b, p) => b.op1('LayerNormalization', ['x', p('scale', [6]), p('bias', [6])], { epsilon: 1e-4 }),
  },
  {
    name: 'LayerNormalization axis 1',
    opset: 17,
    inputs: { x: [2, 3, 2, 2] },
    build: (b, p) =>
      b.op1('LayerNormalization', ['x', p('scale', [3, 2, 2]), p('bias', [3, 2, 2])], {
        axis: 1,
        epsilon: 1e-4,
      }),
  },
  // Pools.
  {
    name: 'MaxPool 2x2 stride 2',
    inputs: x4(2, 6, 6),
    build: (b) => b.maxPool('x', { kernel: 2, stride: 2 }),
    samplers: { x: distinct },
  },
  {
    name: 'MaxPool 3x3 stride 2 pad 1 (overlapping)',
    inputs: x4(2, 7, 7),
    build: (b) => b.maxPool('x', { kernel: 3, stride: 2, pads: 1 }),
    samplers: { x: distinct },
  },
  {
    name: 'MaxPool ceil_mode',
    inputs: x4(2, 6, 6),
    build: (b) => b.maxPool('x', { kernel: 3, stride: 2, ceilMode: true }),
    samplers: { x: distinct },
  },
  {
    name: 'MaxPool dilation 2 asymmetric pads',
    inputs: x4(2, 8, 8),
    build: (b) => b.maxPool('x', { kernel: 2, stride: 1, dilation: 2, pads: [1, 0, 0, 1] }),
    samplers: { x: distinct },
  },
  {
    name: 'MaxPool SAME_UPPER',
    inputs: x4(2, 5, 5),
    build: (b) => b.op1('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
    samplers: { x: distinct },
  },
  {
    name: 'MaxPool 1-D',
    inputs: { x: [2, 3, 9] },
    build: (b) => b.op1('MaxPool', ['x'], { kernel_shape: [3], strides: [2] }),
    samplers: { x: distinct },
  },
  {
    name: 'AveragePool 2x2 stride 2',
    inputs: x4(2, 6, 6),
    build: (b) => b.averagePool('x', { kernel: 2, stride: 2 }),
  },
  {
    name: 'AveragePool 3x3 s2 pad 1 exclude pad',
    inputs: x4(2, 7, 7),
    build: (b) => b.averagePool('x', { kernel: 3, stride: 2, pads: 1 }),
  },
  {
    name: 'AveragePool 3x3 s2 pad 1 include pad',
    inputs: x4(2, 7, 7),
    build: (b) => b.averagePool('x', { kernel: 3, stride: 2, pads: 1, countIncludePad: true }),
  },
  {
    name: 'AveragePool ceil_mode',
    inputs: x4(2, 6, 6),
    build: (b) => b.averagePool('x', { kernel: 3, stride: 2, ceilMode: true }),
  },
  {
    name: 'AveragePool ceil_mode pad include pad',
    inputs: x4(2, 6, 6),
    build: (b) =>
      b.averagePool('x', { kernel: 3, stride: 2, pads: 1, ceilMode: true, countIncludePad: true }),
  },
  { name: 'GlobalAveragePool', inputs: x4(), build: unary('GlobalAveragePool') },
  { name: 'GlobalMaxPool', inputs: x4(), build: unary('GlobalMaxPool'), samplers: { x: distinct } },
  // Shape ops.
  { name: 'Flatten axis 1', inputs: x4(), build: unary('Flatten', { axis: 1 }) },
  { name: 'Reshape', inputs: x4(), build: (b) => b.op1('Reshape', ['x', b.param('shape', i64([2, -1, 5]))]) },
  { name: 'Transpose', inputs: x4(2, 3, 4), build: unary('Transpose', { perm: [0, 2, 3, 1] }) },
  {
    name: 'Concat axis 1 of 3',
    inputs: { a: [2, 1, 3], b: [2, 2, 3], c: [2, 3, 3] },
    build: (b) => b.op1('Concat', ['a', 'b', 'c'], { axis: 1 }),
  },
  {
    name: 'Split (opset 13 sizes) with an unused output',
    inputs: { x: [2, 6, 3] },
    build: (b) => {
      const [s0, , s2] = b.op('Split', ['x', b.param('split', i64([1, 2, 3]))], { axis: 1 }, 3);
      return b.op1('Concat', [s0, s2], { axis: 1 });
    },
  },
  {
    name: 'Slice negative indices and axes',
    inputs: { x: [3, 8, 5] },
    build: (b) =>
      b.op1('Slice', [
        'x',
        b.param('st', i64([1, -4])),
        b.param('en', i64([7, 100])),
        b.param('ax', i64([1, -1])),
      ]),
  },
  {
    name: 'Slice step -1 (flip)',
    inputs: { x: [3, 8] },
    build: (b) =>
      b.op1('Slice', [
        'x',
        b.param('st', i64([6])),
        b.param('en', i64([1])),
        b.param('ax', i64([1])),
        b.param('sp', i64([-1])),
      ]),
  },
  {
    name: 'Slice step 2 and step -3 with clamped ends',
    inputs: { x: [2, 9, 10] },
    build: (b) =>
      b.op1('Slice', [
        'x',
        b.param('st', i64([1, 100])),
        b.param('en', i64([100, -100])),
        b.param('ax', i64([1, 2])),
        b.param('sp', i64([2, -3])),
      ]),
  },
  {
    name: 'Slice step 3 from a negative start',
    inputs: { x: [3, 11] },
    build: (b) =>
      b.op1('Slice', [
        'x',
        b.param('st', i64([-10])),
        b.param('en', i64([9])),
        b.param('ax', i64([1])),
        b.param('sp', i64([3])),
      ]),
  },
  {
    name: 'Pad constant with a negative pad (crop)',
    inputs: x4(2, 4, 5),
    build: (b) => b.op1('Pad', ['x', b.param('pads', i64([0, 0, -1, 2, 0, 0, 1, -2]))]),
  },
  ...(['reflect', 'edge'] as const).map(
    (mode): Case => ({
      name: `Pad ${mode}`,
      inputs: x4(2, 4, 5),
      build: (b) => b.op1('Pad', ['x', b.param('pads', i64([0, 0, 2, 3, 0, 0, 3, 1]))], { mode }),
    }),
  ),
  {
    name: 'Pad reflect opset 10 attribute form',
    opset: 10,
    inputs: x4(1, 4, 4),
    build: (b) => b.op1('Pad', ['x'], { mode: 'reflect', pads: [0, 0, 1, 2, 0, 0, 2, 1] }),
  },
  {
    name: 'Pad wrap (opset 19) on chosen axes',
    opset: 19,
    inputs: x4(2, 4, 5),
    build: (b) =>
      b.op1('Pad', ['x', b.param('pads', i64([2, 1, 1, 3])), '', b.param('axes', i64([2, 3]))], {
        mode: 'wrap',
      }),
  },
  {
    name: 'Pad constant',
    inputs: x4(2, 3, 3),
    build: (b) => b.op1('Pad', ['x', b.param('pads', i64([0, 0, 1, 2, 0, 1, 0, 3]))]),
  },
  {
    name: 'Squeeze',
    inputs: { x: [2, 1, 3, 1] },
    build: (b) => b.op1('Squeeze', ['x', b.param('axes', i64([1, 3]))]),
  },
  {
    name: 'Unsqueeze',
    inputs: { x: [2, 3] },
    build: (b) => b.op1('Unsqueeze', ['x', b.param('axes', i64([0, 2]))]),
  },
  // Reductions and softmax.
  {
    name: 'ReduceMean opset 13 axes attr keepdims 0',
    inputs: x4(),
    build: unary('ReduceMean', { axes: [1, 3], keepdims: 0 }),
  },
  {
    name: 'ReduceMean opset 18 axes input',
    opset: 18,
    inputs: x4(),
    build: (b) => b.op1('ReduceMean', ['x', b.param('axes', i64([-1]))]),
  },
  {
    name: 'ReduceSum axes input',
    inputs: x4(),
    build: (b) => b.op1('ReduceSum', ['x', b.param('axes', i64([0, 2]))], { keepdims: 0 }),
  },
  { name: 'ReduceSum all axes', inputs: x4(), build: unary('ReduceSum') },
  { name: 'ReduceMax', inputs: x4(), build: unary('ReduceMax', { axes: [2, 3] }), samplers: { x: distinct } },
  { name: 'Softmax axis 1', inputs: { x: [2, 5, 3] }, build: unary('Softmax', { axis: 1 }) },
  {
    name: 'Softmax opset 11 (flattened from axis 1)',
    opset: 11,
    inputs: { x: [2, 3, 4] },
    build: unary('Softmax', { axis: 1 }),
  },
  { name: 'LogSoftmax', inputs: { x: [3, 7] }, build: unary('LogSoftmax') },
  // Resize.
  {
    name: 'Resize nearest ×2 asymmetric floor',
    inputs: x4(2, 3, 4),
    build: (b) =>
      b.op1('Resize', ['x', '', b.param('scales', float32([1, 1, 2, 2]))], {
        mode: 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        nearest_mode: 'floor',
      }),
  },
  {
    name: 'Resize nearest ×3 half_pixel round_prefer_floor',
    inputs: x4(2, 3, 3),
    build: (b) => b.op1('Resize', ['x', '', b.param('scales', float32([1, 1, 3, 3]))], { mode: 'nearest' }),
  },
  {
    name: 'Resize linear ×2 half_pixel',
    inputs: x4(2, 3, 4),
    build: (b) => b.op1('Resize', ['x', '', b.param('scales', float32([1, 1, 2, 2]))], { mode: 'linear' }),
  },
  {
    name: 'Resize linear align_corners to sizes',
    inputs: x4(2, 3, 4),
    build: (b) =>
      b.op1('Resize', ['x', '', '', b.param('sizes', i64([2, 2, 7, 5]))], {
        mode: 'linear',
        coordinate_transformation_mode: 'align_corners',
      }),
  },
  {
    name: 'Resize linear ×0.5 pytorch_half_pixel',
    inputs: x4(2, 6, 8),
    build: (b) =>
      b.op1('Resize', ['x', '', b.param('scales', float32([1, 1, 0.5, 0.5]))], {
        mode: 'linear',
        coordinate_transformation_mode: 'pytorch_half_pixel',
      }),
  },
  ...(
    [
      ['×2 half_pixel', { scales: [1, 1, 2, 2] }, {}],
      [
        '×1.5 align_corners, a = −0.5',
        { scales: [1, 1, 1.5, 1.5] },
        { coordinate_transformation_mode: 'align_corners', cubic_coeff_a: -0.5 },
      ],
      ['to sizes, exclude_outside', { sizes: [2, 2, 7, 9] }, { exclude_outside: 1 }],
      ['×0.5 asymmetric', { scales: [1, 1, 0.5, 0.5] }, { coordinate_transformation_mode: 'asymmetric' }],
    ] as const
  ).map(
    ([label, target, attrs]): Case => ({
      name: `Resize cubic ${label}`,
      inputs: x4(2, 6, 6),
      build: (b) =>
        b.op1(
          'Resize',
          'sizes' in target
            ? ['x', '', '', b.param('sizes', i64([...target.sizes]))]
            : ['x', '', b.param('scales', float32([...target.scales]))],
          { mode: 'cubic', ...attrs },
        ),
    }),
  ),
  {
    name: 'Resize linear on the channel axis',
    inputs: x4(3, 4, 4),
    build: (b) => b.op1('Resize', ['x', '', b.param('scales', float32([1, 2, 1, 1]))], { mode: 'linear' }),
  },
];

// One contract, two runtimes: every rule's backward graph must run and be right on onnxruntime-node
// and on onnxruntime-web's WebAssembly build (the browser's runtime, here under Node).
describe.each([nodeBackend(), webBackend()])(
  'gradient rules match finite differences on $name',
  (backend) => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const b = new GraphBuilder({ opset: c.opset ?? 13, seed: 3 });
      for (const [name, shape] of Object.entries(c.inputs)) b.input(name, shape);
      const params: string[] = [];
      const rng = new Random(11);
      const p = (name: string, dims: number[], sampler: Sampler = samplers.normal) => {
        const n = dims.reduce((a, d) => a * d, 1);
        params.push(b.param(name, { dtype: 'float32', dims, data: sampler(rng, n).map((v) => v * 0.7) }));
        return name;
      };
      const y = c.build(b, p);
      const model = b.build([y]);
      const result = await checkGradients(model, backend, {
        inputShapes: c.inputs,
        wrt: [...Object.keys(c.inputs), ...params],
        samplers: c.samplers,
        reluRule: c.reluRule,
      });
      for (const check of result.checks) {
        const label = `${check.wrt}: analytic ${check.analytic} vs numeric ${check.numeric} ± ${check.standardError} (${result.precision})`;
        expect(check.passed, label).toBe(true);
        // The float32 estimate must be sharp enough to see a 5% error (its noise comes from it).
        expect(check.tolerance, label).toBeLessThan(
          0.05 * Math.max(Math.abs(check.analytic), Math.abs(check.numeric)),
        );
      }
    });
  },
);
