/**
 * The bad-input matrix: every case gives exit code 1, a message naming the problem, and writes
 * nothing (not even an empty folder). docs/reliability.md lists the same cases with the behaviour.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../data/npy.js';
import { withStyleCard } from '../data/styleCard.js';
import { writeModelFile } from '../node.js';
import { GraphBuilder } from '../onnx/builder.js';
import { styleNetwork } from '../train/styleNetwork.js';
import { modelsDir } from './common.js';
import { shapesPicture } from './fuzz.js';
import { cli } from './harness.js';

let dir: string;
const at = (name: string) => join(dir, name);

/** A small classifier on [n, 3, H, W] built in code; `inputs` image inputs, `extra` op on the path. */
function tinyModel(options: { inputs?: number; size?: (number | string)[]; extra?: string } = {}) {
  const b = new GraphBuilder({ seed: 3 });
  const size = options.size ?? [64, 64];
  const names = Array.from({ length: options.inputs ?? 1 }, (_, i) =>
    b.input(`image${i}`, ['n', 3, ...size]),
  );
  let x = names.length > 1 ? b.add(names[0], names[1]) : names[0];
  if (options.extra) x = b.op1(options.extra, [x]);
  const f = b.named(b.relu(b.conv(x, { in: 3, out: 4, kernel: 3, pads: 1 })), 'features');
  return b.build([b.named(b.gemm(b.flatten(b.globalAveragePool(f)), { in: 4, out: 3 }), 'logits')]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-bad-'));
  const png = await shapesPicture().png().toBuffer();
  const jpg = await shapesPicture().jpeg().toBuffer();
  const webp = await shapesPicture().webp().toBuffer();
  writeFileSync(at('good.png'), png);
  writeFileSync(at('empty.png'), Buffer.alloc(0));
  writeFileSync(at('truncated.png'), png.subarray(0, 100));
  writeFileSync(at('truncated.jpg'), jpg.subarray(0, jpg.length >> 1));
  writeFileSync(at('truncated.webp'), webp.subarray(0, 60));
  writeFileSync(at('noise.jpg'), Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 37) % 256)));
  writeFileSync(at('noise.webp'), Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 53) % 256)));
  const huge = Buffer.from(png);
  huge.writeUInt32BE(50000, 16);
  huge.writeUInt32BE(50000, 20);
  writeFileSync(at('huge.png'), huge);
  writeFileSync(at('deep16.png'), await shapesPicture().toColourspace('rgb16').png().toBuffer());
  writeFileSync(at('cmyk.jpg'), await shapesPicture().toColourspace('cmyk').jpeg().toBuffer());
  writeFileSync(at('alpha.png'), await shapesPicture().ensureAlpha(0.5).png().toBuffer());
  writeFileSync(at('palette.png'), await shapesPicture().png({ palette: true }).toBuffer());
  writeFileSync(at('grey.png'), await shapesPicture().greyscale().png().toBuffer());

  const x = new Float32Array(3 * 64 * 64).fill(0.5);
  const nan = Float32Array.from(x);
  nan[7] = Number.NaN;
  writeFileSync(at('nan.npy'), encodeNpy(nan, [1, 3, 64, 64]));
  const inf = Float32Array.from(x);
  inf[9] = Number.NEGATIVE_INFINITY;
  writeFileSync(at('inf.npy'), encodeNpy(inf, [1, 3, 64, 64]));
  const good = Buffer.from(encodeNpy(x, [1, 3, 64, 64])).toString('latin1');
  writeFileSync(
    at('fortran.npy'),
    Buffer.from(good.replace("'fortran_order': False", "'fortran_order': True "), 'latin1'),
  );
  writeFileSync(at('bigendian.npy'), Buffer.from(good.replace("'<f4'", "'>f4'"), 'latin1'));
  writeFileSync(at('wrongshape.npy'), encodeNpy(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]));
  writeFileSync(at('noise.npy'), Buffer.from('not an array at all'));
  writeFileSync(at('aspect.npy'), encodeNpy(new Float32Array(35), [1, 5, 7]));

  const shipped = readFileSync(join(modelsDir(), 'shapes-gap.onnx'));
  writeFileSync(at('noise.onnx'), Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 131 + 7) % 256)));
  writeFileSync(at('truncated.onnx'), shipped.subarray(0, shipped.length >> 1));
  writeModelFile(at('external.onnx'), tinyModel(), {
    externalData: { location: 'external.bin', threshold: 16 },
  });
  rmSync(at('external.bin'));
  writeModelFile(at('two-inputs.onnx'), tinyModel({ inputs: 2 }));
  writeModelFile(at('dynamic.onnx'), tinyModel({ size: ['h', 'w'] }));
  writeModelFile(at('no-rule.onnx'), tinyModel({ extra: 'Round' }));
  const dangling = tinyModel();
  dangling.graph.nodes.find((n) => n.opType === 'Conv')!.inputs[1] = 'missing_weight';
  writeModelFile(at('dangling.onnx'), dangling);

  writeModelFile(
    at('style-net.onnx'),
    withStyleCard(styleNetwork({ styles: 2, width: 4, residualBlocks: 1 }), {
      name: 'style-net',
      styles: [
        { name: 'a', source: 'a.png' },
        { name: 'b', source: 'b.png' },
      ],
      size: 16,
    }),
  );

  mkdirSync(at('empty-folder'));
  for (const c of ['a', 'b']) {
    mkdirSync(at(`broken/${c}`), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(at(`broken/${c}/${i}.png`), png);
  }
  writeFileSync(at('broken/a/1.png'), png.subarray(0, 50));
  writeFileSync(at('a-file'), 'x');
  mkdirSync(at('locked'));
  writeFileSync(at('locked/.convlens-writing'), '4242\n');
  const scan = await cli(
    'scan',
    '--data',
    'shapes',
    '--range',
    '0:8',
    '--out',
    at('shapes-scan.json'),
    '--quiet',
  );
  expect(scan.code, scan.err).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** [what is wrong, the verb and its arguments (OUT: a fresh output path), the message expected]. */
const cases: [string, string[], RegExp][] = [
  // Images
  [
    'a 0-byte PNG',
    ['explain', '--image', 'F:empty.png', '-o', 'OUT'],
    /image ".*empty.png" is empty \(0 bytes\)/,
  ],
  [
    'a truncated PNG',
    ['explain', '--image', 'F:truncated.png', '-o', 'OUT'],
    /image ".*truncated.png" could not be read: .*png/i,
  ],
  [
    'a truncated JPEG',
    ['explain', '--image', 'F:truncated.jpg', '-o', 'OUT'],
    /image ".*truncated.jpg" could not be read: .*JPEG/i,
  ],
  [
    'a truncated WebP',
    ['explain', '--image', 'F:truncated.webp', '-o', 'OUT'],
    /image ".*truncated.webp" could not be read/,
  ],
  [
    'a JPEG of noise',
    ['explain', '--image', 'F:noise.jpg', '-o', 'OUT'],
    /image ".*noise.jpg" could not be read: .*unsupported image format/,
  ],
  [
    'a WebP of noise',
    ['segment', '--image', 'F:noise.webp', '-o', 'OUT'],
    /image ".*noise.webp" could not be read/,
  ],
  [
    'a header claiming 50,000 × 50,000 px',
    ['explain', '--image', 'F:huge.png', '-o', 'OUT'],
    /image ".*huge.png" could not be read: Input image exceeds pixel limit/,
  ],
  ['an image that does not exist', ['predict', '--image', 'F:nope.png'], /image ".*nope.png" does not exist/],
  [
    'a broken image among good ones',
    ['explain', '--image', 'F:good.png', 'F:truncated.png', '-o', 'OUT'],
    /truncated.png" could not be read/,
  ],
  // Models
  [
    'an ONNX file of noise',
    ['explain', '--model', 'F:noise.onnx', '--image', 'F:good.png', '-o', 'OUT'],
    /noise.onnx" is not an ONNX model/,
  ],
  [
    'a truncated ONNX file',
    ['predict', '--model', 'F:truncated.onnx', '--image', 'F:good.png'],
    /truncated.onnx" is not an ONNX model/,
  ],
  [
    'a model whose external data is missing',
    ['layers', '--model', 'F:external.onnx'],
    /external data file "external.bin" not found beside the model/,
  ],
  [
    'a model that does not exist',
    ['layers', '--model', 'F:nope.onnx'],
    /model file ".*nope.onnx" does not exist/,
  ],
  [
    'a model with two image inputs',
    ['explain', '--model', 'F:two-inputs.onnx', '--image', 'F:good.png', '-o', 'OUT'],
    /the model takes 2 inputs \("image0", "image1"\); convlens feeds models with one image input/,
  ],
  [
    'a dynamic spatial size and no --size',
    ['explain', '--model', 'F:dynamic.onnx', '--image', 'F:good.png', '-o', 'OUT'],
    /input "image0" has no fixed height and width; give --size H,W/,
  ],
  [
    'an op without a gradient rule on the path',
    ['explain', '--model', 'F:no-rule.onnx', '--image', 'F:good.png', '--method', 'saliency', '-o', 'OUT'],
    /no gradient rule for op Round at node "round_0"; supported ops: Abs, Add/,
  ],
  [
    'a model onnxruntime refuses (a node reads a tensor nothing makes)',
    ['predict', '--model', 'F:dangling.onnx', '--image', 'F:good.png'],
    /onnxruntime cannot load ".*dangling.onnx": Invalid model. Node input 'missing_weight' is not a graph input/,
  ],
  // Arrays
  [
    'NaN in --input-npy',
    ['explain', '--input-npy', 'F:nan.npy', '-o', 'OUT'],
    /nan.npy" holds NaN at index \(0, 0, 0, 7\)/,
  ],
  [
    '-Infinity in --input-npy',
    ['explain', '--input-npy', 'F:inf.npy', '-o', 'OUT'],
    /inf.npy" holds -Infinity at index \(0, 0, 0, 9\)/,
  ],
  [
    'a Fortran-order .npy',
    ['explain', '--input-npy', 'F:fortran.npy', '-o', 'OUT'],
    /Fortran-order arrays are not supported/,
  ],
  [
    'a big-endian .npy',
    ['explain', '--input-npy', 'F:bigendian.npy', '-o', 'OUT'],
    /dtype ">f4" is not supported/,
  ],
  [
    'an .npy of another shape',
    ['explain', '--input-npy', 'F:wrongshape.npy', '-o', 'OUT'],
    /does not match the model input/,
  ],
  ['a file that is not .npy', ['explain', '--input-npy', 'F:noise.npy', '-o', 'OUT'], /not a .npy file/],
  [
    'maps of another size for faithfulness',
    ['faithfulness', '--image', 'F:good.png', '--maps', 'F:aspect.npy', '-o', 'OUT'],
    /external maps "aspect" of 5×7 do not match images of 64×64/,
  ],
  // Data
  ['an empty dataset folder', ['explain', '--data', 'F:empty-folder', '-o', 'OUT'], /holds no images/],
  [
    'a dataset folder with a broken image in the middle',
    ['explain', '--data', 'F:broken', '--count', '6', '-o', 'OUT'],
    /broken\/a\/1.png" could not be read/,
  ],
  [
    'a dataset that does not exist',
    ['scan', '--data', 'F:nowhere', '-o', 'OUT.json'],
    /data ".*nowhere" is neither a built-in dataset \(mnist, shapes\) nor an existing folder/,
  ],
  [
    'a scan index of another model',
    ['channels', '--model', 'digits-gap', '--index', 'F:shapes-scan.json', '-o', 'OUT.png'],
    /scan index ".*shapes-scan.json" was made by model "shapes-gap" \(sha256 [0-9a-f]{12}…\), not "digits-gap"/,
  ],
  [
    'an index that is not JSON',
    ['patches', '--index', 'F:good.png', '-o', 'OUT.png'],
    /"[^"]*good.png" is not a convlens scan index \(not JSON: Unexpected token/,
  ],
  // Outputs
  [
    '--out is a file',
    ['explain', '--image', 'F:good.png', '--method', 'gradcam', '-o', 'F:a-file'],
    /is a file, not a folder/,
  ],
  [
    '--out under a file',
    ['explain', '--image', 'F:good.png', '--method', 'gradcam', '-o', 'F:a-file/sub'],
    /"[^"]*a-file" is a file, not a folder/,
  ],
  [
    '--out cannot be created',
    ['explain', '--image', 'F:good.png', '--method', 'gradcam', '-o', '/proc/convlens-nope/x'],
    /cannot create output folder "\/proc\/convlens-nope\/x": ENOENT/,
  ],
  [
    '--out being written by another run',
    ['explain', '--image', 'F:good.png', '--method', 'gradcam', '-o', 'F:locked'],
    /"[^"]*locked" is being written by another convlens run \(pid 4242\)/,
  ],
  // Arguments, across the verbs
  [
    'an unknown method',
    ['explain', '--image', 'F:good.png', '--method', 'gradkam', '-o', 'OUT'],
    /unknown method "gradkam"; valid methods, nearest first: gradcam/,
  ],
  [
    'an unknown layer',
    ['explain', '--image', 'F:good.png', '--method', 'gradcam', '--layer', 'conv9', '-o', 'OUT'],
    /layer "conv9" not found/,
  ],
  [
    'a class that does not exist',
    ['explain', '--image', 'F:good.png', '--target', 'hexagon', '-o', 'OUT'],
    /target "hexagon" is not a class name/,
  ],
  [
    'a class index out of range',
    ['explain', '--image', 'F:good.png', '--target', '9', '-o', 'OUT'],
    /target class 9 is out of range/,
  ],
  [
    'a negative SmoothGrad σ',
    ['explain', '--image', 'F:good.png', '--sigma', '-1', '-o', 'OUT'],
    /option '--sigma <x>' argument '-1' is invalid. expected a positive number/,
  ],
  [
    'an unknown shipped model or zoo name',
    ['layers', '--model', 'zoo:lenet'],
    /unknown zoo model "lenet"; available: zoo:resnet/,
  ],
  [
    'filters of a layer that is not a conv',
    ['filters', '--layer', 'logits', '-o', 'OUT.png'],
    /"logits" is not a Conv layer \(node, output or weight name\); Conv layers: conv1, conv2/,
  ],
  [
    'activations of an unknown tensor',
    ['activations', '--image', 'F:good.png', '--layer', 'nope', '-o', 'OUT'],
    /layer "nope" not found; spatial layers, nearest first: conv1/,
  ],
  [
    'visualising an unknown target',
    ['visualize', '--target', 'nope:3', '-o', 'OUT'],
    /objective term "nope:3": unknown kind "nope"; syntax: logit:C/,
  ],
  [
    'dreaming at an unknown layer',
    ['dream', '--image', 'F:good.png', '--layer', 'nope', '-o', 'OUT'],
    /objective "dream:nope": layer "nope" not found; nearest:/,
  ],
  [
    'a negative attack ε',
    ['attack', '--image', 'F:good.png', '--eps', '-0.1', '-o', 'OUT'],
    /option '--eps <ε>' argument '-0.1' is invalid. expected a positive number/,
  ],
  [
    'segment seeds outside (0, 1)',
    ['segment', '--image', 'F:good.png', '--fg', '1.2', '-o', 'OUT'],
    /--fg must be a quantile in \(0, 1\), got 1.2/,
  ],
  [
    'a dissection quantile outside (0, 1)',
    ['dissect', '--quantile', '2', '-o', 'OUT'],
    /--quantile must be a number in \(0, 1\), got "2"/,
  ],
  [
    'an unknown faithfulness metric',
    ['faithfulness', '--metrics', 'auroc', '-o', 'OUT'],
    /unknown metric "auroc"/,
  ],
  [
    'an unknown embedding method',
    ['embed', '--methods', 'mds', '-o', 'OUT'],
    /--methods: "mds" is not one of pca, tsne, umap/,
  ],
  [
    'an unknown recipe',
    ['train', '--recipe', 'imagenet', '-o', 'OUT.onnx'],
    /argument 'imagenet' is invalid. Allowed choices are digits-gap, shapes-gap, shapes-vgg/,
  ],
  // Style networks
  [
    'an unreadable style image',
    ['style', 'train', '--style', 'F:truncated.png', '-o', 'OUT.onnx'],
    /--style: image ".*truncated.png" could not be read/,
  ],
  [
    'an unreadable content image',
    ['style', 'train', '--style', 'F:good.png', '--content', 'F:truncated.jpg', '-o', 'OUT.onnx'],
    /--content: image ".*truncated.jpg" could not be read/,
  ],
  [
    'a content folder without images',
    ['style', 'train', '--style', 'F:good.png', '--content', 'F:empty-folder', '-o', 'OUT.onnx'],
    /--content: folder ".*empty-folder" holds no images/,
  ],
  [
    'a loss-network layer that does not exist',
    [
      'style',
      'train',
      '--style',
      'F:good.png',
      '--content',
      'F:good.png',
      '--style-layers',
      'rf3,relu9',
      '--size',
      '16',
      '--steps',
      '1',
      '--rf-filters',
      '4',
      '--width',
      '2',
      '--blocks',
      '0',
      '-o',
      'OUT.onnx',
    ],
    /style layer "relu9" is not a layer of the loss network; nearest: /,
  ],
  [
    'a training size that is not a multiple of 4',
    ['style', 'train', '--style', 'F:good.png', '--size', '30', '-o', 'OUT.onnx'],
    /--size must be a multiple of 4, got 30/,
  ],
  [
    'a style-network output that is not .onnx',
    ['style', 'train', '--style', 'F:good.png', '-o', 'OUT'],
    /--out must name an .onnx file/,
  ],
  [
    'a style index out of range',
    ['stylize', '-m', 'F:style-net.onnx', '--image', 'F:good.png', '--style', '2', '-o', 'OUT'],
    /style index 2 is out of range; the network holds styles 0-1/,
  ],
  [
    'a style name the network does not hold',
    ['stylize', '-m', 'F:style-net.onnx', '--image', 'F:good.png', '--style', 'monet', '-o', 'OUT'],
    /--style "monet" is neither an index nor a style of this network; styles: 0 a, 1 b/,
  ],
  [
    'negative mix weights',
    ['stylize', '-m', 'F:style-net.onnx', '--image', 'F:good.png', '--mix', '1,-1', '-o', 'OUT'],
    /mix weights must be finite and ≥ 0, got -1/,
  ],
  [
    'mix weights of the wrong count',
    ['stylize', '-m', 'F:style-net.onnx', '--image', 'F:good.png', '--mix', '1,1,1', '-o', 'OUT'],
    /the mix has 3 weights; the network holds 2 styles, give 2/,
  ],
  [
    'a classifier given to stylize',
    ['stylize', '-m', 'shapes-gap', '--image', 'F:good.png', '-o', 'OUT'],
    /not a convlens style network/,
  ],
  [
    'an unreadable image to stylize',
    ['stylize', '-m', 'F:style-net.onnx', '--image', 'F:truncated.png', '-o', 'OUT'],
    /--image: image ".*truncated.png" could not be read/,
  ],
  // SCOUTER
  [
    'a SCOUTER backbone layer that is not spatial',
    [
      'scouter',
      'train',
      '--backbone',
      'shapes-gap',
      '--layer',
      'logits',
      '--data',
      'shapes',
      '-o',
      'OUT.onnx',
    ],
    /layer "logits" \(Gemm, shape \[1, 6\]\) is not a feature map/,
  ],
  [
    'a SCOUTER λ that is not ±1',
    ['scouter', 'train', '--backbone', 'shapes-gap', '--data', 'shapes', '--lambda', '2', '-o', 'OUT.onnx'],
    /λ must be \+1 \(SCOUTER\+\) or -1 \(SCOUTER−\), got "2"/,
  ],
  [
    'fewer than one slot per class',
    [
      'scouter',
      'train',
      '--backbone',
      'shapes-gap',
      '--data',
      'shapes',
      '--slots-per-class',
      '0',
      '-o',
      'OUT.onnx',
    ],
    /option '--slots-per-class <n>' argument '0' is invalid/,
  ],
  [
    'a SCOUTER dataset whose classes are not the backbone’s',
    ['scouter', 'train', '--backbone', 'digits-gap', '--data', 'shapes', '-o', 'OUT.onnx'],
    /the backbone's classes \(0, 1, .*\) are not those of "shapes"/,
  ],
  [
    'SCOUTER explanations of a model that is not SCOUTER',
    ['explain', '--method', 'scouter', '--image', 'F:good.png', '-o', 'OUT'],
    /scouter: the model is not a SCOUTER classifier .*convlens scouter train/,
  ],
  [
    'a bad --size',
    ['layers', '--model', 'zoo:resnet', '--size', '0,64'],
    /expected H,W or S \(positive integers\), got "0,64"/,
  ],
];

describe('bad input: exit 1, a message naming the problem, nothing written', () => {
  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  it.each(cases)('%s', async (name, args, error) => {
    const out = at(`out-${name.replace(/\W+/g, '-')}`);
    const before = readdirSync(dir).sort();
    const given = args.map((a) => (a.startsWith('F:') ? at(a.slice(2)) : a.replace(/^OUT/, out)));
    const r = await cli(...given);
    expect(r.code, r.err || r.out).toBe(1);
    expect(r.err).toMatch(error);
    expect(r.err).not.toMatch(/\n\s+at /);
    for (const a of given) if (a.startsWith(out)) expect(existsSync(a), a).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readdirSync(at('locked'))).toEqual(['.convlens-writing']);
  });
});

describe('data of the other channel count is converted', () => {
  it.each([
    ['embed', 'digits-gap', 'shapes', ['--limit', '24', '--methods', 'pca']],
    ['scan', 'shapes-gap', 'mnist', ['--range', '0:24']],
  ])('%s: %s on %s', async (verb, model, data, extra) => {
    const out = at(`converted-${verb}${verb === 'scan' ? '.json' : ''}`);
    const r = await cli(verb, '--model', model, '--data', data, ...extra, '-o', out, '--quiet');
    expect(r.code, r.err).toBe(0);
    rmSync(out, { recursive: true, force: true });
  });
});

describe('unusual images that are accepted and converted', () => {
  it.each(['deep16.png', 'cmyk.jpg', 'alpha.png', 'palette.png', 'grey.png'])('%s', async (file) => {
    const r = await cli('predict', '--image', at(file), '--json');
    expect(r.code, r.err).toBe(0);
    const reference = await cli('predict', '--image', at('good.png'), '--json');
    // Converted to the same sRGB pixels up to rounding: the same top class as the 8-bit RGB image.
    expect(JSON.parse(r.out).predictions[0].top[0].label).toBe(
      JSON.parse(reference.out).predictions[0].top[0].label,
    );
  });
});
