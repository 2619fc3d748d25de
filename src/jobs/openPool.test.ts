import { describe, expect, it } from 'vitest';
import { openPool } from './openPool.js';

describe('openPool', () => {
  it('opens a job once for shards in turn, once per shard at a time, and releases other jobs when idle', async () => {
    const log: string[] = [];
    let n = 0;
    const pool = openPool(
      async (o) => {
        log.push(`open ${o.job}`);
        return `${o.job}#${++n}`;
      },
      async (t) => {
        log.push(`release ${t}`);
      },
    );
    const a = { model: 'shapes-gap', job: 'a' };
    expect(await pool.use(a, async (t) => t)).toBe('a#1');
    expect(await pool.use(a, async (t) => t)).toBe('a#1');
    const both = await Promise.all([pool.use(a, async (t) => t), pool.use(a, async (t) => t)]);
    expect(both.sort()).toEqual(['a#1', 'a#2']);
    await expect(pool.use(a, async () => Promise.reject(new Error('shard failed')))).rejects.toThrow(
      'shard failed',
    );
    expect(await pool.use({ model: 'shapes-gap', job: 'b' }, async (t) => t)).toBe('b#3');
    expect(log).toEqual(['open a', 'open a', 'release a#1', 'release a#2', 'open b']);
    await pool.clear();
    expect(log.at(-1)).toBe('release b#3');
  });
});
