/** `convlens serve`: the explorer in a browser, models running there (onnxruntime-web); the server only serves files. */
import type { Command } from 'commander';
import { startExplorer } from '../serve/explorer.js';
import { parseNonNegativeInt } from './common.js';

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'open the explorer: predictions, every attribution map and feature maps of any ONNX CNN, in your browser',
    )
    .option('-m, --model <files...>', 'ONNX files to offer besides the shipped models')
    .option(
      '-d, --data <sets...>',
      'datasets whose test images the page offers: shapes, mnist or image folders',
      ['shapes', 'mnist'],
    )
    .option(
      '--index <index.json>',
      'a scan index (`convlens scan`): each channel shows its top dataset patches',
    )
    .option('--port <p>', 'port (0: any free one)', parseNonNegativeInt, 8080)
    .option(
      '--host <address>',
      'address to bind (anything but 127.0.0.1 exposes your files to the network)',
      '127.0.0.1',
    )
    .action(
      async (flags: { model?: string[]; data: string[]; index?: string; port: number; host: string }) => {
        if (flags.host !== '127.0.0.1' && flags.host !== 'localhost' && flags.host !== '::1')
          process.stderr.write(
            `warning: serving on ${flags.host}: anyone who can reach this address can load the models it serves\n`,
          );
        const { url, close } = await startExplorer({
          models: flags.model,
          data: flags.data,
          index: flags.index,
          port: flags.port,
          host: flags.host,
        });
        process.stdout.write(`convlens explorer at ${url} (Ctrl-C to stop)\n`);
        await new Promise<void>((done) => {
          const stop = () => void close().then(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
