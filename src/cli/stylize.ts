/** `convlens stylize`: one forward pass of a trained style network per image. */

import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { decodeImageFit } from '../data/node.js';
import { type StyleChoice, Stylizer, styleWeights } from '../methods/synthesis/stylize.js';
import { encodePng } from '../render/node.js';
import { nodeBackend } from '../runtime/node.js';
import { parseNumbers, parsePositiveInt, resolveModel, writeAll } from './common.js';
import { fileSlug, fileStem } from './inspect.js';
import { cliSessionOptions } from './runtime.js';
import { planarImage } from './synthesis.js';

/** `--style` as an index or a style name of the card. */
function styleChoiceOf(flags: { style?: string; mix?: number[] }, stylizer: Stylizer): StyleChoice[] {
  if (flags.style !== undefined && flags.mix) throw new Error('give --style or --mix, not both');
  const names = stylizer.card.styles.map((s) => s.name);
  if (flags.mix) {
    styleWeights(names.length, { mix: flags.mix });
    return [{ mix: flags.mix }];
  }
  if (flags.style === undefined) return names.map((_, style) => ({ style }));
  const byName = names.indexOf(flags.style);
  const index = byName >= 0 ? byName : Number(flags.style);
  if (!Number.isInteger(index) || flags.style.trim() === '')
    throw new Error(
      `--style "${flags.style}" is neither an index nor a style of this network; styles: ${names.map((n, k) => `${k} ${n}`).join(', ')}`,
    );
  styleWeights(names.length, { style: index });
  return [{ style: index }];
}

const choiceLabel = (choice: StyleChoice, names: string[]) =>
  'style' in choice ? names[choice.style] : `mix-${choice.mix.join('-')}`;

export function addStylizeCommand(program: Command): void {
  program
    .command('stylize')
    .description('stylise images with a trained style network: one forward pass per image, any size')
    .option(
      '-m, --model <model>',
      'style network (.onnx from `style train`, or a shipped name)',
      'photo-styles',
    )
    .requiredOption('--image <files...>', 'images to stylise')
    .option('--style <k>', 'style index or name (default: each style in turn)')
    .option('--mix <w1,w2,...>', 'blend the styles with these weights (scaled to sum 1)', parseNumbers)
    .option('--size <px>', 'longer side of the output (default: the image’s own size)', parsePositiveInt)
    .option('-o, --out <dir>', 'output folder', 'stylized')
    .option('--json', 'print JSON')
    .action(
      async (flags: {
        model: string;
        image: string[];
        style?: string;
        mix?: number[];
        size?: number;
        out: string;
        json?: boolean;
      }) => {
        const { model } = resolveModel(flags.model);
        const stylizer = await Stylizer.open(model, nodeBackend(), cliSessionOptions());
        try {
          const choices = styleChoiceOf(flags, stylizer);
          const names = stylizer.card.styles.map((s) => s.name);
          const images = await Promise.all(
            flags.image.map(async (f) => {
              const image = flags.size
                ? await decodeImageFit(f, 3, flags.size)
                : await decodeImageFit(f, 3, await longerSide(f));
              return { file: f, image };
            }),
          ).catch((e: Error) => {
            throw new Error(`--image: ${e.message}`);
          });
          const files = new Map<string, Uint8Array | string>();
          const results: {
            image: string;
            style: string;
            file: string;
            size: [number, number];
            ms: number;
          }[] = [];
          for (const { file, image } of images)
            for (const choice of choices) {
              const t0 = performance.now();
              const y = await stylizer.stylize(image, choice);
              const ms = performance.now() - t0;
              const name = `${fileStem(file)}.${fileSlug(choiceLabel(choice, names))}.png`;
              files.set(name, await encodePng(planarImage(y.pixels, 0, 3, ...y.size)));
              results.push({
                image: file,
                style: choiceLabel(choice, names),
                file: name,
                size: [y.size[0], y.size[1]],
                ms: Math.round(ms),
              });
            }
          const summary = { model: flags.model, styles: names, results };
          files.set('stylize.json', `${JSON.stringify(summary, null, 2)}\n`);
          writeAll(flags.out, files);
          if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else
            process.stdout.write(
              `${results.map((r) => `${relative('.', r.image)} × ${r.style}: ${r.size.join('×')} in ${r.ms} ms`).join('\n')}\nwrote ${files.size} files to ${flags.out}\n`,
            );
        } finally {
          await stylizer.release();
        }
      },
    );
}

async function longerSide(file: string): Promise<number> {
  const { default: sharp } = await import('sharp');
  if (!existsSync(file)) throw new Error(`image "${file}" does not exist`);
  const meta = await sharp(file)
    .metadata()
    .catch((e: Error) => {
      throw new Error(`image "${file}" could not be read: ${e.message}`);
    });
  return Math.max(meta.width ?? 1, meta.height ?? 1);
}
