import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../data/npy.js';
import { BROWSER_AVAILABLE, cli, withBrowser } from './harness.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convlens-embed-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convlens embed', () => {
  const out = () => join(dir, 'digits');

  it('separates digit classes: t-SNE k-NN accuracy in 2-D ≥ 90% on digits-gap features', async () => {
    const r = await cli(
      'embed',
      '--limit',
      '600',
      '--iterations',
      '500',
      '--out',
      out(),
      '--json',
      '--quiet',
    );
    expect(r.err).toBe('');
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ layer: 'features', dims: 64, pooled: true, metric: 'cosine' });
    expect(s.knnAccuracy.tsne).toBeGreaterThanOrEqual(0.9);
    expect(s.knnAccuracy.umap).toBeGreaterThanOrEqual(0.9);
    expect(s.knnAccuracy.features).toBeGreaterThanOrEqual(0.95);
    // Feature-space neighbours share the query's class more often than pixel-space ones.
    expect(s.neighbours.sameClass.features).toBeGreaterThan(s.neighbours.sameClass.pixels);
    expect(readdirSync(out()).sort()).toEqual([
      'embed.html',
      'embedding.json',
      'features.npy',
      'neighbours.png',
      'pca.npy',
      'pca.png',
      'tsne.npy',
      'tsne.png',
      'umap.npy',
      'umap.png',
    ]);
    const tsne = decodeNpy(readFileSync(join(out(), 'tsne.npy')));
    expect(tsne.shape).toEqual([600, 2]);
    expect(decodeNpy(readFileSync(join(out(), 'features.npy'))).shape).toEqual([600, 64]);
    expect(s.params.pca.explained[0]).toBeGreaterThan(s.params.pca.explained[1]);
  });

  it.runIf(BROWSER_AVAILABLE)(
    'the HTML explorer draws every point and shows a thumbnail on hover, offline',
    async () => {
      const file = join(out(), 'embed.html');
      await withBrowser(async (browser) => {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const requests: string[] = [];
        page.on('request', (q) => {
          if (!q.url().startsWith('data:') && !q.url().startsWith('file:')) requests.push(q.url());
        });
        await page.goto(`file://${file}`);
        await page.waitForSelector('body[data-ready="yes"]');
        const symbols = await page.evaluate(() =>
          [...document.querySelectorAll('.chart')].map(
            (c) => c.querySelectorAll('.mark-symbol.dots path').length,
          ),
        );
        expect(symbols).toEqual([600, 600, 600]);
        const point = await page.evaluate(() => {
          const p = document.querySelector('#chart1 .mark-symbol.dots path')!.getBoundingClientRect();
          return { x: p.x + p.width / 2, y: p.y + p.height / 2 };
        });
        await page.mouse.move(point.x, point.y);
        await page.waitForSelector('#tip', { state: 'visible' });
        const tip = await page.evaluate(() => ({
          src: document.querySelector<HTMLImageElement>('#tip img')!.src,
          text: document.querySelector('#tip .text')!.textContent,
        }));
        expect(tip.src).toMatch(/^data:image\/png;base64,/);
        expect(tip.text).toMatch(/^#\d+ .* · class \d$/);
        expect(requests).toEqual([]);
      });
    },
  );

  it('refuses unknown embeddings and out-of-range queries', async () => {
    let r = await cli('embed', '--methods', 'pca,mds', '--out', join(dir, 'x'));
    expect(r.err).toMatch(/"mds" is not one of pca, tsne, umap/);
    r = await cli(
      'embed',
      '--limit',
      '20',
      '--methods',
      'pca',
      '--queries',
      '25',
      '--out',
      join(dir, 'y'),
      '--quiet',
    );
    expect(r.err).toMatch(/sample 25 is out of range 0-19/);
  });
});
