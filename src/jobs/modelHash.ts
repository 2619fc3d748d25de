/** Which model bytes a job was made with, and the check a worker makes before running it. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveModel } from '../cli/common.js';
import { modelHash } from '../cli/scan.js';
import type { JobSpec } from './kind.js';

const hashes = new Map<string, string>();

/** sha256 of the model a job names, as this machine resolves it (cached per file, size and mtime). */
export function localModelHash(spec: string): string {
  const resolved = resolveModel(spec);
  if (!resolved.path) return modelHash(resolved.model);
  const st = statSync(resolved.path);
  const key = `${resolve(resolved.path)}:${st.size}:${st.mtimeMs}`;
  let hash = hashes.get(key);
  if (!hash) {
    hash = modelHash(resolved.model, resolved.path);
    hashes.set(key, hash);
  }
  return hash;
}

/** Refuse a job whose model differs from the one the coordinator opened. */
export function checkJobModel(spec: JobSpec, where: string): void {
  const model = String(spec.options.model);
  const hash = localModelHash(model);
  if (hash !== spec.sha256)
    throw new Error(
      `${where} refuses the job: its model "${model}" has sha256 ${hash.slice(0, 12)}…, the job was made with ${spec.sha256.slice(0, 12)}…; give every worker the same model file`,
    );
}
