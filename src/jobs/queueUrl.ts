/** Queue addresses: `redis://HOST:PORT[/DB]`, checked before anything is enqueued. */
import { InvalidArgumentError } from 'commander';

export interface QueueAddress {
  url: string;
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
  tls: boolean;
}

/**
 * Parse `redis://[USER:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://` for TLS).
 *
 * @example
 * ```ts
 * parseQueueUrl('redis://10.0.0.5:6379/2'); // { host: '10.0.0.5', port: 6379, db: 2, … }
 * ```
 */
export function parseQueueUrl(value: string): QueueAddress {
  const bad = (why: string) =>
    new InvalidArgumentError(
      `--queue "${value}" is not a queue URL (${why}); expected redis://HOST:PORT[/DB]`,
    );
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad('unparseable');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw bad(`scheme "${u.protocol.replace(/:$/, '')}"`);
  if (!u.hostname) throw bad('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw bad(`database "${path}" is not a number`);
  if (u.search || u.hash) throw bad('query or fragment');
  return {
    url: value,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: path === '' ? 0 : Number(path),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:',
  };
}

/** Connection options for BullMQ (which retries forever: check reachability first with `checkQueue`). */
export function connectionOptions(a: QueueAddress) {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    username: a.username,
    password: a.password,
    ...(a.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Connect once without retries; a clear error within `timeoutMs` when the queue is not there. */
export async function checkQueue(a: QueueAddress, timeoutMs = 3000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({
    ...connectionOptions(a),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new Error(
      `cannot reach the queue at ${a.url}: ${(e as Error).message || 'no answer'}; is redis-server running there?`,
    );
  } finally {
    client.disconnect();
  }
}
