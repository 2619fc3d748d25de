/** `convlens worker`: take shard jobs (scan, dissect, embed) from a BullMQ queue on Redis until stopped. */
import type { Command } from 'commander';
import { parseQueueUrl } from '../jobs/queueUrl.js';
import { parsePositiveInt } from './common.js';

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'take shard jobs from a queue that scan, dissect or embed --queue fill, run them here and return the results (until Ctrl-C)',
    )
    .requiredOption('--queue <redis://HOST:PORT[/DB]>', 'the queue', parseQueueUrl)
    .option('--concurrency <k>', 'shards run at once', parsePositiveInt, 1)
    .option('--results <dir>', 'write results into this shared folder instead of Redis (for large results)')
    .option(
      '--lock-ms <ms>',
      'a worker silent this long is presumed dead and its shard retried elsewhere',
      parsePositiveInt,
      30_000,
    )
    .action(
      async (flags: {
        queue: ReturnType<typeof parseQueueUrl>;
        concurrency: number;
        results?: string;
        lockMs: number;
      }) => {
        const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
        const { startQueueWorker } = await import('../jobs/queueWorker.js');
        const w = await startQueueWorker(flags.queue, {
          concurrency: flags.concurrency,
          resultsDir: flags.results,
          lockMs: flags.lockMs,
          log,
        });
        log(`${w.where} takes jobs from ${flags.queue.url} (concurrency ${flags.concurrency})`);
        await new Promise<void>((done) => {
          const stop = () => {
            log('stopping after the running shards');
            void w.close().then(done);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
