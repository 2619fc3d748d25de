/** `convlens segment`: object masks from attribution maps seeding GrabCut, and their IoU on shapes masks. */
import { type Command, InvalidArgumentError } from 'commander';
import { calibratedThresholds } from '../data/card.js';
import { encodeNpy } from '../data/npy.js';
import { explain, findMethod } from '../methods/attribution/index.js';
import { boxThresholdFor, camBox } from '../methods/attribution/localize.js';
import { Explainer } from '../methods/attribution/pipeline.js';
import { checkSeedFractions, DEFAULT_SEEDS, GRABCUT_LABELS } from '../methods/segmentation/seeds.js';
import { maskIoU, seedPlane, segmentFromMap } from '../methods/segmentation/segment.js';
import { colormap } from '../render/colormap.js';
import { greyscale, overlay, type RgbImage } from '../render/image.js';
import { encodePng, gridPng } from '../render/node.js';
import { cardFor, pad, parsePositiveInt, resolveModel, withCardFlags, writeAll } from './common.js';
import { inputsFrom, type SampleFlags, withSampleOptions } from './explain.js';
import { openModel } from './runtime.js';

interface SegmentFlags extends SampleFlags {
  fg: number;
  bg: number;
  iterations: number;
  out: string;
  eval?: boolean;
  json?: boolean;
}

const quantile = (what: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`--${what} expects a number, got "${value}"`);
  return n;
};

/** A 0/1 mask as a black-and-white image. */
function maskImage(mask: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let j = 0; j < mask.length; j++) data.fill(mask[j] ? 255 : 0, j * 3, j * 3 + 3);
  return { width, height, data };
}

/** The image dimmed to grey, with the mask in viridis' top colour (yellow) over it. */
function maskOverlay(image: RgbImage, mask: Uint8Array): RgbImage {
  const values = Float32Array.from(mask, (m) => (m ? 1 : 0));
  return overlay(greyscale(image, 0.6), values, colormap('viridis'), 0.55, true);
}

/** Seeds as an image: foreground white, background black, the rest grey by GrabCut's prior. */
function seedImage(labels: Uint8Array, width: number, height: number): RgbImage {
  const L = GRABCUT_LABELS;
  const shade: Record<number, number> = {
    [L.foreground]: 255,
    [L.background]: 0,
    [L.probablyForeground]: 170,
    [L.probablyBackground]: 85,
  };
  const data = new Uint8Array(width * height * 3);
  for (let j = 0; j < labels.length; j++) data.fill(shade[labels[j]], j * 3, j * 3 + 3);
  return { width, height, data };
}

const boxMask = (box: [number, number, number, number] | undefined, width: number, height: number) => {
  const m = new Uint8Array(width * height);
  if (box) for (let y = box[1]; y < box[3]; y++) m.fill(1, y * width + box[0], y * width + box[2]);
  return m;
};

const summary = (v: number[]) => ({
  meanIoU: v.reduce((a, b) => a + b, 0) / Math.max(1, v.length),
  aboveHalf: v.filter((x) => x > 0.5).length / Math.max(1, v.length),
});

export function addSegmentCommands(program: Command): void {
  withCardFlags(
    withSampleOptions(program.command('segment'), 4, 'test samples of shapes (with masks), mnist or a folder')
      .description(
        'object masks without supervision: an attribution map seeds GrabCut (Simonyan et al. 2014, §3.2)',
      )
      .option('--method <name>', 'the attribution method whose map seeds GrabCut', 'saliency')
      .option('-l, --layer <tensor>', 'feature map for CAM-family methods')
      .option(
        '--fg <q>',
        'foreground seeds: pixels above this quantile of the map',
        quantile('fg'),
        DEFAULT_SEEDS.fg,
      )
      .option(
        '--bg <q>',
        'background seeds: pixels below this quantile of the map',
        quantile('bg'),
        DEFAULT_SEEDS.bg,
      )
      .option('--iterations <n>', 'GrabCut iterations', parsePositiveInt, 5)
      .option(
        '--eval',
        "score mask IoU against the dataset's masks of the labelled class (default data: shapes)",
      )
      .option('-o, --out <dir>', 'output folder', 'segments')
      .option('--json', 'print JSON'),
  ).action(async (flags: SegmentFlags) => {
    checkSeedFractions({ fg: flags.fg, bg: flags.bg });
    const method = findMethod(flags.method);
    const { model } = resolveModel(flags.model);
    const card = cardFor(model, flags);
    const inputs = await inputsFrom(flags, card, flags.eval ? 'shapes' : undefined);
    if (flags.eval && !inputs.masks?.some(Boolean))
      throw new Error(
        `--eval needs data with object masks (shapes); "${flags.data ?? 'the input'}" has none`,
      );
    const m = openModel(model, card.preprocessing.layout);
    try {
      const explainer = new Explainer(m, inputs.input, {
        logits: card.tensors?.logits,
        classes: card.classes,
        features: card.tensors?.features,
      });
      const methods = flags.eval && method.name !== 'gradcam' ? [method.name, 'gradcam'] : [method.name];
      const { maps } = await explain(explainer, { methods, layer: flags.layer });
      const map = maps[0];
      const cam = maps.find((x) => x.method === 'gradcam');
      const [height, width] = card.preprocessing.size;
      const calibrated = calibratedThresholds(card);
      const threshold = boxThresholdFor(map.method, calibrated);
      const camThreshold = boxThresholdFor('gradcam', calibrated);
      const files = new Map<string, Uint8Array | string>();
      const scores = { grabcut: [] as number[], threshold: [] as number[], camBox: [] as number[] };
      const records = [];
      const rows = [];
      for (const [i, stem] of inputs.stems.entries()) {
        const image = inputs.images[i];
        const plane = seedPlane(map, i, height, width);
        const seg = await segmentFromMap(
          image,
          { data: plane, height, width },
          { fg: flags.fg, bg: flags.bg, iterations: flags.iterations },
        );
        let max = 0;
        for (const v of plane) max = Math.max(max, v);
        const thresholded = Uint8Array.from(plane, (v) => (max > 0 && v >= threshold * max ? 1 : 0));
        const truth = inputs.masks?.[i];
        const record: Record<string, unknown> = {
          source: inputs.sources[i],
          method: map.method,
          seeds: {
            fg: flags.fg,
            bg: flags.bg,
            ...seg.seeds.thresholds,
            ...seg.seeds.counts,
            flat: seg.seeds.flat,
          },
          area: seg.mask.reduce((a, b) => a + b, 0),
        };
        if (truth) {
          record.iou = maskIoU(seg.mask, truth);
          scores.grabcut.push(record.iou as number);
          scores.threshold.push(maskIoU(thresholded, truth));
          if (cam) {
            const [, , h, w] = cam.dims;
            const box = camBox(
              cam.data.subarray(i * h * w, (i + 1) * h * w),
              h,
              w,
              height,
              width,
              camThreshold,
            );
            scores.camBox.push(maskIoU(boxMask(box, width, height), truth));
          }
        }
        records.push(record);
        if (!flags.eval) {
          files.set(`${stem}.mask.png`, await encodePng(maskImage(seg.mask, width, height)));
          files.set(`${stem}.mask.npy`, encodeNpy(Float32Array.from(seg.mask), [height, width]));
          files.set(`${stem}.overlay.png`, await encodePng(maskOverlay(image, seg.mask)));
          files.set(`${stem}.json`, `${JSON.stringify(record, null, 2)}\n`);
        }
        if (rows.length < 8)
          rows.push({
            label: stem,
            cells: [
              { image, caption: inputs.sources[i].split('/').pop() },
              {
                image: overlay(greyscale(image, 0.5), plane, colormap('inferno'), 1, true),
                caption: map.method,
              },
              {
                image: seedImage(seg.seeds.labels, width, height),
                caption: `seeds ${flags.fg} / ${flags.bg}`,
                pixelated: true,
              },
              {
                image: maskOverlay(image, seg.mask),
                caption: truth ? `IoU ${(record.iou as number).toFixed(2)}` : 'GrabCut',
              },
              ...(truth
                ? [{ image: maskImage(truth, width, height), caption: 'true mask', pixelated: true }]
                : []),
            ],
          });
      }
      const headers = [
        'input',
        'map',
        'seeds',
        'GrabCut mask',
        ...(inputs.masks?.some(Boolean) ? ['truth'] : []),
      ];
      files.set(
        'grid.png',
        await gridPng(rows, { headers, title: `${card.name}: ${map.method} seeds GrabCut` }),
      );
      const evaluation = flags.eval
        ? {
            samples: scores.grabcut.length,
            method: map.method,
            fg: flags.fg,
            bg: flags.bg,
            grabcut: summary(scores.grabcut),
            thresholdedMap: { threshold, ...summary(scores.threshold) },
            gradcamBox: summary(scores.camBox),
          }
        : undefined;
      if (evaluation) files.set('eval.json', `${JSON.stringify(evaluation, null, 2)}\n`);
      writeAll(flags.out, files);
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify(evaluation ?? { out: flags.out, samples: records }, null, 2)}\n`,
        );
      else if (evaluation) {
        const row = (name: string, s: { meanIoU: number; aboveHalf: number }) =>
          `${pad(name, 38)}${pad(s.meanIoU.toFixed(3), 12)}${(100 * s.aboveHalf).toFixed(1)}%\n`;
        process.stdout.write(
          `${pad(`mask IoU on ${evaluation.samples} images`, 38)}${pad('mean', 12)}IoU > 0.5\n`,
        );
        process.stdout.write(row(`GrabCut from ${map.method} seeds`, evaluation.grabcut));
        process.stdout.write(row(`${map.method} ≥ ${threshold} of max`, evaluation.thresholdedMap));
        process.stdout.write(row('Grad-CAM box', evaluation.gradcamBox));
      } else
        for (const [i, stem] of inputs.stems.entries())
          process.stdout.write(
            `${inputs.sources[i]}: ${records[i].area} px → ${flags.out}/${stem}.mask.png\n`,
          );
    } finally {
      await m.release();
    }
  });
}
