/**
 * Reference CNN families built with the DSL, shaped like the torchvision models users export:
 * ResNet (BatchNorm, residual Add, padded MaxPool), MobileNetV2 (depthwise convs, ReLU6, inverted
 * residuals), VGG (Flatten + FC head with Dropout, PyTorch-style dynamic flatten), Inception
 * (parallel branches + Concat), ConvNeXt (depthwise 7×7, LayerNorm, GELU, layer scale, torchvision's
 * LayerNorm2d head) and Keras as tf2onnx exports it (channels-last input, MatMul head).
 * Weights are random (seeded): these graphs exercise the engine, they classify nothing.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { Layout } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import { float32 } from '../onnx/tensor.js';

export interface FamilyOptions {
  /** Input channels (default 3). */
  channels?: number;
  classes?: number;
  seed?: number;
  opset?: number;
}

const start = (o: FamilyOptions, defaultOpset = 13) => {
  const b = new GraphBuilder({ opset: o.opset ?? defaultOpset, seed: o.seed ?? 0 });
  const x = b.input('input', ['batch', o.channels ?? 3, 'height', 'width']);
  return { b, x, channels: o.channels ?? 3, classes: o.classes ?? 10 };
};

const finish = (b: GraphBuilder, logits: string, name: string): Model => {
  const m = b.build([logits]);
  m.graph.name = name;
  return m;
};

/** ResNet with BasicBlocks: blocks [2, 2, 2, 2] and widths [64, 128, 256, 512] give ResNet-18. */
export function resnet(o: FamilyOptions & { blocks?: number[]; widths?: number[] } = {}): Model {
  const { b, x, channels, classes } = start(o);
  const blocks = o.blocks ?? [2, 2, 2, 2];
  const widths = o.widths ?? [64, 128, 256, 512];
  const convBn = (h: string, cin: number, cout: number, k: number, stride: number) =>
    b.batchNorm(b.conv(h, { in: cin, out: cout, kernel: k, stride, pads: (k - 1) / 2, bias: false }), cout);
  let h = b.relu(convBn(x, channels, widths[0], 7, 2));
  h = b.maxPool(h, { kernel: 3, stride: 2, pads: 1 });
  let cin = widths[0];
  blocks.forEach((n, stage) => {
    const cout = widths[stage];
    for (let i = 0; i < n; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const body = convBn(b.relu(convBn(h, cin, cout, 3, stride)), cout, cout, 3, 1);
      const shortcut = stride !== 1 || cin !== cout ? convBn(h, cin, cout, 1, stride) : h;
      h = b.relu(b.add(body, shortcut));
      cin = cout;
    }
  });
  const logits = b.gemm(b.flatten(b.globalAveragePool(h)), { in: cin, out: classes });
  return finish(b, logits, 'resnet');
}

/** MobileNetV2: rows [expansion t, channels c, repeats n, stride s]; the default is torchvision's. */
export function mobilenetV2(
  o: FamilyOptions & { config?: number[][]; stem?: number; head?: number } = {},
): Model {
  const { b, x, channels, classes } = start(o);
  const config = o.config ?? [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  const convBnRelu6 = (
    h: string,
    cin: number,
    cout: number,
    k: number,
    stride: number,
    group = 1,
    act = true,
  ) => {
    const y = b.batchNorm(
      b.conv(h, { in: cin, out: cout, kernel: k, stride, pads: (k - 1) / 2, group, bias: false }),
      cout,
    );
    return act ? b.relu6(y) : y;
  };
  const stem = o.stem ?? 32;
  let h = convBnRelu6(x, channels, stem, 3, 2);
  let cin = stem;
  for (const [t, c, n, s] of config) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      let y = t === 1 ? h : convBnRelu6(h, cin, hidden, 1, 1);
      y = convBnRelu6(y, hidden, hidden, 3, stride, hidden);
      y = convBnRelu6(y, hidden, c, 1, 1, 1, false);
      h = stride === 1 && cin === c ? b.add(h, y) : y;
      cin = c;
    }
  }
  const head = o.head ?? 1280;
  h = convBnRelu6(h, cin, head, 1, 1);
  const pooled = b.flatten(b.globalAveragePool(h));
  const logits = b.gemm(b.op1('Dropout', [pooled]), { in: head, out: classes });
  return finish(b, logits, 'mobilenetv2');
}

/** VGG: `cfg` lists conv widths and 'M' for 2×2 max-pools; head Flatten → FC → ReLU → Dropout → FC. */
export function vgg(o: FamilyOptions & { cfg?: (number | 'M')[]; fc?: number; inputSize: number }): Model {
  const { b, x, channels, classes } = start(o);
  let h = x;
  let cin = channels;
  let size = o.inputSize;
  for (const v of o.cfg ?? [16, 'M', 32, 'M', 64, 64, 'M']) {
    if (v === 'M') {
      h = b.maxPool(h, { kernel: 2, stride: 2 });
      size = Math.floor(size / 2);
    } else {
      h = b.relu(b.conv(h, { in: cin, out: v, kernel: 3, pads: 1 }));
      cin = v;
    }
  }
  const fc = o.fc ?? 64;
  const flat = b.torchFlatten(h);
  const hidden = b.op1('Dropout', [b.relu(b.gemm(flat, { in: cin * size * size, out: fc }))]);
  return finish(b, b.gemm(hidden, { in: fc, out: classes }), 'vgg');
}

/** Inception-style: a stem, then blocks of four parallel branches joined by Concat. */
export function inception(o: FamilyOptions & { blocks?: number; width?: number } = {}): Model {
  const { b, x, channels, classes } = start(o);
  const w = o.width ?? 8;
  const cbr = (h: string, cin: number, cout: number, k: number, stride = 1) =>
    b.relu(
      b.batchNorm(b.conv(h, { in: cin, out: cout, kernel: k, stride, pads: (k - 1) / 2, bias: false }), cout),
    );
  let h = b.maxPool(cbr(x, channels, 2 * w, 3, 2), { kernel: 3, stride: 2, pads: 1 });
  let cin = 2 * w;
  for (let i = 0; i < (o.blocks ?? 2); i++) {
    const b1 = cbr(h, cin, w, 1);
    const b2 = cbr(cbr(h, cin, w, 1), w, 2 * w, 3);
    const b3 = cbr(cbr(cbr(h, cin, w / 2, 1), w / 2, w, 3), w, w, 3);
    const b4 = cbr(b.maxPool(h, { kernel: 3, stride: 1, pads: 1 }), cin, w, 1);
    h = b.concat([b1, b2, b3, b4], 1);
    cin = 5 * w;
    if (i === 0) h = b.maxPool(h, { kernel: 3, stride: 2, pads: 1, ceilMode: true });
  }
  const logits = b.gemm(b.flatten(b.globalAveragePool(h)), { in: cin, out: classes });
  return finish(b, logits, 'inception');
}

/** ConvNeXt-style: patchify stem, blocks of depthwise 7×7 → LayerNorm → MLP (GELU) → layer scale + residual. */
export function convnext(o: FamilyOptions & { depths?: number[]; dims?: number[] } = {}): Model {
  const { b, x, channels, classes } = start(o, 17);
  const depths = o.depths ?? [1, 1];
  const dims = o.dims ?? [16, 32];
  const nhwc = (h: string) => b.transpose(h, [0, 2, 3, 1]);
  const nchw = (h: string) => b.transpose(h, [0, 3, 1, 2]);
  const channelNorm = (h: string, c: number) => nchw(b.layerNorm(nhwc(h), c));
  let h = channelNorm(b.conv(x, { in: channels, out: dims[0], kernel: 4, stride: 4 }), dims[0]);
  depths.forEach((n, stage) => {
    const c = dims[stage];
    if (stage > 0)
      h = b.conv(channelNorm(h, dims[stage - 1]), { in: dims[stage - 1], out: c, kernel: 2, stride: 2 });
    for (let i = 0; i < n; i++) {
      let y = nhwc(b.conv(h, { in: c, out: c, kernel: 7, pads: 3, group: c }));
      y = b.linear(b.gelu(b.linear(b.layerNorm(y, c), c, 4 * c)), 4 * c, c);
      const gamma = b.param(b.fresh('layer_scale'), float32(new Array(c).fill(0.5)));
      h = b.add(h, nchw(b.mul(y, gamma)));
    }
  });
  // torchvision's head: AdaptiveAvgPool → LayerNorm2d (permute, LayerNorm, permute) → Flatten → Linear.
  const last = dims[depths.length - 1];
  const pooled = channelNorm(b.globalAveragePool(h), last);
  const logits = b.gemm(b.flatten(pooled), { in: last, out: classes });
  return finish(b, logits, 'convnext');
}

/**
 * Keras-style, as tf2onnx exports it: a channels-last input [N, H, W, C] transposed to NCHW,
 * conv → BN → ReLU stages with 2×2 max-pools, the last map transposed back to NHWC, a mean over
 * H and W (GlobalAveragePooling2D) and MatMul + Add (Dense). `layout: 'nchw'` builds its twin
 * with an NCHW input and the same weights, so the two differ only by the input's layout.
 */
export function keras(o: FamilyOptions & { widths?: number[]; layout?: Layout } = {}): Model {
  const b = new GraphBuilder({ opset: o.opset ?? 13, seed: o.seed ?? 0 });
  const channels = o.channels ?? 3;
  const classes = o.classes ?? 10;
  const nhwc = (o.layout ?? 'nhwc') === 'nhwc';
  const input = b.input(
    'input',
    nhwc ? ['batch', 'height', 'width', channels] : ['batch', channels, 'height', 'width'],
  );
  let h = nhwc ? b.transpose(input, [0, 3, 1, 2]) : input;
  let cin = channels;
  for (const [i, c] of (o.widths ?? [8, 16, 16]).entries()) {
    if (i > 0) h = b.maxPool(h, { kernel: 2, stride: 2 });
    h = b.relu(b.batchNorm(b.conv(h, { in: cin, out: c, kernel: 3, pads: 1, bias: false }), c));
    cin = c;
  }
  const pooled = b.op1('ReduceMean', [b.transpose(h, [0, 2, 3, 1])], { axes: [1, 2], keepdims: 0 });
  const weight = b.randn('dense_w', [cin, classes], 1 / Math.sqrt(cin));
  const bias = b.randn('dense_b', [classes], 0.1);
  return finish(b, b.add(b.op1('MatMul', [pooled, weight]), bias), nhwc ? 'keras' : 'keras-nchw');
}

/** Small instances of every family, sized for tests and the self-check. */
export function smallFamilies(): { name: string; model: Model; inputShape: number[] }[] {
  return [
    {
      name: 'resnet',
      model: resnet({ blocks: [1, 1], widths: [8, 16], seed: 1 }),
      inputShape: [2, 3, 32, 32],
    },
    {
      name: 'mobilenetv2',
      model: mobilenetV2({
        config: [
          [1, 8, 1, 1],
          [4, 12, 2, 2],
          [4, 16, 2, 2],
        ],
        stem: 8,
        head: 32,
        seed: 2,
      }),
      inputShape: [2, 3, 32, 32],
    },
    {
      name: 'vgg',
      model: vgg({ cfg: [8, 'M', 16, 'M'], fc: 32, inputSize: 16, seed: 3 }),
      inputShape: [2, 3, 16, 16],
    },
    { name: 'inception', model: inception({ blocks: 2, width: 8, seed: 4 }), inputShape: [2, 3, 32, 32] },
    {
      name: 'convnext',
      model: convnext({ depths: [1, 1], dims: [16, 32], seed: 5 }),
      inputShape: [2, 3, 32, 32],
    },
    { name: 'keras', model: keras({ seed: 6 }), inputShape: [2, 32, 32, 3] },
  ];
}
