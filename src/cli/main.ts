/** The convlens command line. */
import { Command, Option } from 'commander';
import { checkGradients } from '../autodiff/gradcheck.js';
import { describeField, receptiveFields } from '../methods/inspect/receptiveField.js';
import { imageAxes, inputLayout, LAYOUTS, type Layout, parseLayout } from '../onnx/layout.js';
import type { Model } from '../onnx/model.js';
import { SPINNING, type Spinning } from '../runtime/backend.js';
import type { ConvlensModel } from '../runtime/model.js';
import { nodeBackend } from '../runtime/node.js';
import { smallFamilies } from '../zoo/families.js';
import { pad, parseSize, resolveModel, ZOO } from './common.js';
import { addDissectCommands } from './dissect.js';
import { addEmbedCommands } from './embed.js';
import { addExplainCommands } from './explain.js';
import { addFaithfulnessCommands } from './faithfulness.js';
import { addGanCommands } from './gan.js';
import { addImageSynthesisCommands } from './imageSynthesis.js';
import { addInspectCommands } from './inspect.js';
import { addPredictCommands } from './predict.js';
import { cliSessionOptions, openModel, setSessionOptions } from './runtime.js';
import { addScanCommands } from './scan.js';
import { addScouterCommands } from './scouter.js';
import { addSegmentCommands } from './segment.js';
import { addServeCommand } from './serve.js';
import { addStyleTrainCommand } from './styleTrain.js';
import { addStylizeCommand } from './stylize.js';
import { addSynthesisCommands } from './synthesis.js';
import { addTrainCommands } from './train.js';
import { addWorkerCommand } from './worker.js';

function inputShapeFor(
  m: ConvlensModel,
  zooShape: number[] | undefined,
  size: number[] | undefined,
  batch: number,
  layout: Layout,
): number[] {
  if (zooShape && !size) return [batch, ...zooShape.slice(1)];
  const input = m.model.graph.inputs[0];
  const dims = input.shape ?? [];
  if (!size) return [batch, ...m.declaredShape().slice(1)];
  if (dims.length !== 4)
    throw new Error(`--size applies to image inputs; input "${input.name}" has rank ${dims.length}`);
  const axis = imageAxes(layout).channels;
  const channels = typeof dims[axis] === 'number' ? dims[axis] : 3;
  return layout === 'nhwc' ? [batch, ...size, channels] : [batch, channels, ...size];
}

/** The input layout from --layout, else as the graph tells (NCHW when it does not). */
const layoutOf = (model: Model, flag?: string): Layout =>
  flag !== undefined ? parseLayout(flag, '--layout') : (inputLayout(model) ?? 'nchw');

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--threads must be a positive integer, got "${value}"`);
  return n;
}

function parseSpinning(value: string): Spinning {
  if (!SPINNING.includes(value as Spinning))
    throw new Error(`--spinning must be one of ${SPINNING.join(', ')}, got "${value}"`);
  return value as Spinning;
}

export function buildProgram(): Command {
  const program = new Command('convlens')
    .description(
      'Open up convolutional neural networks: gradients, attributions and visualisations for any ONNX CNN.',
    )
    .version('0.1.0')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', parseCount)
    .option(
      '--provider <list>',
      `execution providers in order of preference (available here: ${nodeBackend().availableProviders.join(', ')})`,
      (v: string) => v.split(',').map((p) => p.trim()),
    )
    .option(
      '--spinning <mode>',
      `how onnxruntime's threads wait between operators: ${SPINNING.join(', ')} (default auto: spin within runs of 0.5 G multiply-accumulates or more)`,
      parseSpinning,
    )
    .showHelpAfterError()
    // Global flags come before the verb, so a verb's subcommands (`style train`) own what follows them.
    .enablePositionalOptions()
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ threads?: number; provider?: string[]; spinning?: Spinning }>();
      setSessionOptions({ threads: o.threads, executionProviders: o.provider, spinning: o.spinning });
    });

  program
    .command('layers')
    .description('list the tensors a method can target, with op types, shapes and receptive fields')
    .addOption(new Option('-m, --model <path>', 'ONNX model file, or zoo:NAME').default('zoo:resnet'))
    .option('-s, --size <H,W>', 'input height and width (for models with dynamic sizes)', parseSize)
    .option('--layout <layout>', `input layout: ${LAYOUTS.join(', ')} (default: read from the graph)`)
    .option('--json', 'print JSON')
    .action(async (opts: { model: string; size?: number[]; layout?: string; json?: boolean }) => {
      const { model, inputShape } = resolveModel(opts.model);
      const layout = layoutOf(model, opts.layout);
      const shape = inputShapeFor(openModel(model), inputShape, opts.size, 1, layout);
      // Listed as the model computes in NCHW (a channels-last input adapted), the input as given.
      const m = openModel(model, layout);
      const nchw = layout === 'nhwc' ? [shape[0], shape[3], shape[1], shape[2]] : shape;
      const layers = (await m.layers(nchw)).map((l) => (l.opType === 'Input' ? { ...l, shape } : l));
      const s = await m.prepare({ [m.inputNames[0]]: nchw });
      const { fields } = receptiveFields(s.model, s.types);
      if (opts.json) {
        const rows = layers.map((l) => ({ ...l, receptiveField: fields.get(l.tensor) ?? null }));
        process.stdout.write(`${JSON.stringify({ inputLayout: layout, layers: rows }, null, 2)}\n`);
      } else {
        process.stdout.write(`input "${m.inputNames[0]}": ${layout} [${shape.join(', ')}]\n\n`);
        const width = Math.max(6, ...layers.map((l) => l.tensor.length)) + 2;
        process.stdout.write(`${pad('tensor', width)}${pad('op', 22)}${pad('shape', 22)}receptive field\n`);
        for (const l of layers)
          process.stdout.write(
            `${pad(l.tensor, width)}${pad(l.opType, 22)}${pad(`[${l.shape.join(', ')}]`, 22)}${describeField(fields.get(l.tensor))}\n`,
          );
        process.stdout.write(
          '\nreceptive field: input pixels one unit sees (padding included) / input pixels between neighbouring units\n',
        );
      }
      await m.release();
    });

  program
    .command('check')
    .description(
      "verify convlens's gradients of a model against finite differences (default: every zoo architecture)",
    )
    .option('-m, --model <path>', 'ONNX model file, or zoo:NAME')
    .option('-s, --size <H,W>', 'input height and width', parseSize)
    .option('--json', 'print JSON')
    .action(async (opts: { model?: string; size?: number[]; json?: boolean }) => {
      const targets = opts.model
        ? [{ name: opts.model, ...resolveModel(opts.model) }]
        : smallFamilies().map((f) => ({ name: ZOO + f.name, model: f.model, inputShape: f.inputShape }));
      const rows = [];
      let failed = 0;
      for (const t of targets) {
        const m = openModel(t.model);
        const shape = inputShapeFor(m, t.inputShape, opts.size, 1, layoutOf(t.model));
        const started = performance.now();
        const r = await checkGradients(t.model, nodeBackend(), {
          inputShapes: shape,
          wrt: [m.inputNames[0]],
          directions: 2,
          alongGradient: true,
          step: 0.005,
          session: cliSessionOptions(),
        });
        const along = r.checks.find((c) => c.direction === 'gradient')!;
        const random = Math.max(
          ...r.checks.filter((c) => c.direction === 'random').map((c) => c.relativeError),
        );
        // In float64 every direction is judged. A float32 forward (an op without a double kernel)
        // crosses ReLU kinks at any step its rounding noise allows: there the direction along the
        // gradient, whose derivative ‖g‖ dwarfs a kink's jump, is judged, and random directions shown.
        const ok = r.precision === 'float64' ? r.checks.every((c) => c.passed) : along.relativeError < 1e-2;
        if (!ok) failed++;
        rows.push({
          model: t.name,
          input: shape,
          alongGradientError: along.relativeError,
          randomDirectionError: random,
          precision: r.precision,
          ok,
          ms: Math.round(performance.now() - started),
        });
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        process.stdout.write(
          `${pad('model', 20)}${pad('input', 18)}${pad('precision', 11)}${pad('along ∇ err', 14)}${pad('random err', 13)}result\n`,
        );
        for (const r of rows) {
          process.stdout.write(
            `${pad(r.model, 20)}${pad(`[${r.input.join(',')}]`, 18)}${pad(r.precision, 11)}${pad(r.alongGradientError.toExponential(1), 14)}${pad(
              r.randomDirectionError.toExponential(1),
              13,
            )}${r.ok ? 'ok' : 'FAIL'}\n`,
          );
        }
        process.stdout.write(
          '\nErrors are relative: the input gradient vs finite differences of the forward pass in that precision (docs/testing.md).\n',
        );
      }
      if (failed) process.exitCode = 1;
    });
  addTrainCommands(program);
  addPredictCommands(program);
  addExplainCommands(program);
  addSegmentCommands(program);
  addFaithfulnessCommands(program);
  addInspectCommands(program);
  addScanCommands(program);
  addWorkerCommand(program);
  addServeCommand(program);
  addDissectCommands(program);
  addEmbedCommands(program);
  addSynthesisCommands(program);
  addImageSynthesisCommands(program);
  addStyleTrainCommand(program);
  addStylizeCommand(program);
  addScouterCommands(program);
  addGanCommands(program);
  return program;
}

/** `convlens ... | head` closes stdout early: exit quietly instead of crashing. */
function exitOnClosedPipe(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
}

export async function main(argv: string[]): Promise<void> {
  if (!process.stdout.listeners('error').includes(exitOnClosedPipe))
    process.stdout.on('error', exitOnClosedPipe);
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    process.stderr.write(`convlens: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
