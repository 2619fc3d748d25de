/** `convlens predict`, `convlens retrofit` and `convlens calibrate`. */

import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { runCalibration, runRetrofit } from '../train/node.js';
import {
  type CardFlags,
  cardFor,
  pad,
  parsePositive,
  parsePositiveInt,
  resolveModel,
  trainingProgress,
  withCardFlags,
} from './common.js';
import { imageInputs } from './inputs.js';
import { givesProbabilities, topClasses } from './predictions.js';
import { openModel } from './runtime.js';

export function addPredictCommands(program: Command): void {
  withCardFlags(
    program
      .command('predict')
      .description('classify images: top-k classes with probabilities')
      .option('-m, --model <model>', 'ONNX file or shipped model name', 'shapes-gap')
      .requiredOption('-i, --image <files...>', 'image files'),
  )
    .option('-k, --top <k>', 'how many classes to list', parsePositiveInt, 5)
    .option('--json', 'print JSON')
    .action(async (flags: CardFlags & { model: string; image: string[]; top: number; json?: boolean }) => {
      const { model } = resolveModel(flags.model);
      const card = cardFor(model, flags);
      const inputs = await imageInputs(flags.image, card);
      const m = openModel(model, card.preprocessing.layout);
      const logitsName = card.tensors?.logits ?? m.outputNames[0];
      const out = (await m.run(inputs.input, { outputs: [logitsName] }))[logitsName];
      const tops = topClasses(out, card.classes, flags.top, givesProbabilities(model, logitsName));
      const results = flags.image.map((image, i) => ({ image, top: tops[i] }));
      await m.release();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ model: flags.model, predictions: results }, null, 2)}\n`);
        return;
      }
      for (const r of results) {
        process.stdout.write(`${r.image}\n`);
        for (const t of r.top)
          process.stdout.write(`  ${pad(t.label, 14)}${(100 * t.probability).toFixed(2).padStart(6)}%\n`);
      }
    });

  withCardFlags(
    program
      .command('retrofit')
      .description(
        'make a CNN CAM-ready: cut after conv layer L, append global average pooling and a new linear classifier, train the head',
      )
      .requiredOption('-m, --model <model>', 'ONNX file or shipped model name')
      .requiredOption('-l, --layer <tensor>', 'the conv feature map to keep (see convlens layers)')
      .requiredOption('-d, --data <data>', 'mnist, shapes, or an image folder with class subfolders')
      .requiredOption('-o, --out <file>', 'output ONNX file'),
  )
    .option('--epochs <n>', 'epochs', parsePositiveInt, 6)
    .option('--lr <x>', 'peak learning rate (Adam)', parsePositive, 1e-2)
    .option(
      '--fine-tune [n]',
      'train the last n conv layers before the feature map with the head (n default 1)',
      parsePositiveInt,
    )
    .addOption(new Option('--batch <n>', 'batch size').argParser(parsePositiveInt).default(64))
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print JSON')
    .action(
      async (
        flags: CardFlags & {
          model: string;
          layer: string;
          data: string;
          out: string;
          epochs: number;
          lr: number;
          fineTune?: number | true;
          batch: number;
          quiet?: boolean;
          json?: boolean;
        },
      ) => {
        const { model, path } = resolveModel(flags.model);
        if (path && resolve(flags.out) === resolve(path))
          throw new Error(`--out "${flags.out}" would overwrite the input model`);
        const progress = trainingProgress(flags.quiet || flags.json);
        const r = await runRetrofit({
          model,
          card: cardFor(model, flags),
          source: flags.model,
          layer: flags.layer,
          dataset: flags.data,
          out: flags.out,
          epochs: flags.epochs,
          lr: flags.lr,
          batchSize: flags.batch,
          fineTune: flags.fineTune === true ? 1 : (flags.fineTune ?? 0),
          onProgress: progress.onProgress,
        });
        progress.stop();
        const { before, after } = r;
        const report = {
          out: flags.out,
          layer: flags.layer,
          accuracyBefore: before ?? null,
          accuracyAfter: after.accuracy,
          testSamples: after.total,
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else
          process.stdout.write(
            `wrote ${flags.out}: ${flags.layer} → GAP → linear(${r.channels} → ${r.classes.length})\n` +
              `test accuracy before ${before === undefined ? 'n/a (different classes)' : `${(100 * before).toFixed(2)}%`}, after ${(100 * after.accuracy).toFixed(2)}% (${after.total} images)\n`,
          );
      },
    );

  withCardFlags(
    program
      .command('calibrate')
      .description(
        'choose CAM box thresholds (Grad-CAM; CAM on GAP models) on a validation split with boxes and store them in the model card',
      )
      .requiredOption('-m, --model <model>', 'ONNX file or shipped model name')
      .option('-d, --data <data>', 'dataset with a validation split with boxes', 'shapes')
      .option('-l, --layer <tensor>', 'feature map (default: the card’s, else the last one before the head)')
      .requiredOption(
        '-o, --out <file>',
        'output ONNX file (the model itself is allowed: only its card changes)',
      ),
  )
    .option('--limit <n>', 'calibrate on the first n validation images', parsePositiveInt)
    .option('--json', 'print JSON')
    .action(
      async (
        flags: CardFlags & {
          model: string;
          data: string;
          layer?: string;
          limit?: number;
          out: string;
          json?: boolean;
        },
      ) => {
        const { model } = resolveModel(flags.model);
        const card = cardFor(model, flags);
        const localization = await runCalibration({
          model,
          card,
          dataset: flags.data,
          layer: flags.layer,
          limit: flags.limit,
          out: flags.out,
        });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ out: flags.out, localization }, null, 2)}\n`);
          return;
        }
        const lines = Object.entries(localization).map(
          ([method, c]) =>
            `  ${pad(method, 9)}${String(c.threshold).padEnd(11)}${(100 * c.boxAccuracy).toFixed(2)}% of ${c.samples} ${c.split} images` +
            (card.localization?.[method] ? ` (was ${card.localization[method].threshold})` : ''),
        );
        process.stdout.write(
          `wrote ${flags.out} with box thresholds (fraction of the CAM max, IoU ≥ 0.5):\n${lines.join('\n')}\n`,
        );
      },
    );
}
