/**
 * The explorer's HTTP server (`convlens serve`): it serves files only, from a fixed set of roots
 * (the built app, onnxruntime-web's runtime, the models it is given, dataset thumbnails); models
 * run in the browser. Requests outside the roots, by `..`, encoded separators or symlinks, are
 * 404; bodies over the cap are 413; every response carries a Content-Security-Policy and the
 * cross-origin isolation headers WebAssembly threads need.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

/** Content types of what the explorer serves. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.data': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // onnxruntime-web compiles WebAssembly; protobufjs (ONNX decoding) builds its decoders with
  // new Function. Scripts still load from this origin only.
  "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A URL prefix served from a folder (every file under it) or from named files only. */
export type Root = { prefix: string; dir: string } | { prefix: string; files: Record<string, string> };

/** Dynamic routes: a handler for a path under `prefix`, returning bytes and a type, or undefined (404). */
export interface Route {
  prefix: string;
  handle(rest: string): Promise<{ body: Uint8Array | string; type: string } | undefined>;
}

export interface ExplorerServerOptions {
  roots: Root[];
  routes?: Route[];
  /** Largest request body accepted, in bytes (default 1 MiB); the explorer itself sends none. */
  maxBody?: number;
}

const HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The path segments of a request, or undefined when the path could escape a root: `..` or `.`
 * segments, encoded slashes or backslashes, NUL bytes, or undecodable escapes.
 */
export function safeSegments(pathname: string): string[] | undefined {
  if (/%2f|%5c|%00/i.test(pathname) || pathname.includes('\\')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return undefined;
  return segments;
}

/** The real path of `relative` under `dir`, when it is a file that stays inside `dir` (symlinks resolved). */
function fileUnder(dir: string, relative: string[]): string | undefined {
  try {
    const base = realpathSync(dir);
    const real = realpathSync(join(base, ...relative));
    if (real !== base && !real.startsWith(base + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function resolveFile(roots: readonly Root[], segments: string[]): string | undefined {
  const path = `/${segments.join('/')}`;
  for (const root of roots) {
    const prefix = root.prefix.replace(/\/$/, '');
    if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
    const rest = path.slice(prefix.length).split('/').filter(Boolean);
    if ('dir' in root) {
      const file = fileUnder(root.dir, rest.length === 0 ? ['index.html'] : rest);
      if (file) return file;
    } else if (rest.length === 1 && Object.hasOwn(root.files, rest[0])) {
      try {
        const file = realpathSync(root.files[rest[0]]);
        if (statSync(file).isFile()) return file;
      } catch {}
    }
  }
  return undefined;
}

/**
 * The explorer's server (not yet listening).
 *
 * @example
 * ```ts
 * const server = explorerServer({ roots: [{ prefix: '/', dir: 'dist-web' }] });
 * server.listen(8080, '127.0.0.1');
 * ```
 */
export function explorerServer(options: ExplorerServerOptions): Server {
  const maxBody = options.maxBody ?? 1 << 20;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      send(res, 413, `request body over ${maxBody} bytes`);
      req.destroy();
      return;
    }
    let received = 0;
    let tooLarge = false;
    for await (const chunk of req) {
      received += (chunk as Buffer).length;
      if (received > maxBody) {
        tooLarge = true;
        break;
      }
    }
    if (tooLarge) {
      send(res, 413, `request body over ${maxBody} bytes`);
      req.destroy();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'the explorer serves files only (GET, HEAD)');
    }
    const raw = (req.url ?? '/').split('?')[0];
    if (!raw.startsWith('/')) return send(res, 404, 'not found');
    const segments = safeSegments(raw);
    if (!segments) return send(res, 404, 'not found');
    const path = `/${segments.join('/')}`;
    for (const route of options.routes ?? []) {
      if (!path.startsWith(route.prefix)) continue;
      const out = await route.handle(path.slice(route.prefix.length));
      if (!out) return send(res, 404, 'not found');
      const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
      res.writeHead(200, { ...HEADERS, 'Content-Type': out.type, 'Content-Length': body.byteLength });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    const file = resolveFile(options.roots, segments);
    if (!file) return send(res, 404, 'not found');
    const size = statSync(file).size;
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };
  return createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(e as Error).message}`);
      else res.destroy();
    });
  });
}
