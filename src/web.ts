/** convlens for the browser: the core plus the onnxruntime-web backend (no file system, no sharp). */
export * from './core.js';
export { type WebBackendOptions, webBackend } from './runtime/web.js';
