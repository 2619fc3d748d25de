/** Test harness: run the CLI in-process and capture what it prints and its exit code; write test images. */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { vi } from 'vitest';
import { main } from './main.js';

export /** Run the CLI in-process; returns what it printed and its exit code. */
async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  process.exitCode = 0;
  try {
    await main(['node', 'convlens', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

/** Save a 3×size×size image with values in [0, 1] as PNG. */
export async function writePng(file: string, image: Float32Array, size: number): Promise<void> {
  const area = size * size;
  const px = Buffer.alloc(area * 3);
  for (let i = 0; i < area; i++)
    for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.round(image[c * area + i] * 255);
  await sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(file);
}

/** Debian's chromium (installed by .ci/run), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Browser tests run where chromium exists and always in CI (where a missing browser must fail). */
export const BROWSER_AVAILABLE = existsSync(CHROMIUM) || !!process.env.CI;

/** Run `f` with a headless chromium, closed afterwards. */
export async function withBrowser<T>(f: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    return await f(browser);
  } finally {
    await browser.close();
  }
}
