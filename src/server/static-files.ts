// The web UI (web/) at `/`, and Preact + htm from node_modules under /vendor/ (the import map in
// web/index.html points there). Files are read once and kept in memory (the UI is small); paths
// are resolved inside their root only.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { Context, Next } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const WEB_DIR = new URL('../../web/', import.meta.url).pathname;
/** Packages served under /vendor/NAME/..., and the file kinds allowed from each. */
const VENDOR: Record<string, string[]> = {
  preact: ['.js', '.mjs', '.map'],
  htm: ['.js', '.mjs', '.map'],
  // /docs (web/docs/): Swagger UI's bundle and stylesheet.
  'swagger-ui-dist': ['.js', '.css', '.map', '.png'],
};

function packageRoot(name: string): string | null {
  // Packages with an "exports" map may not expose package.json: resolve the main entry and walk
  // up to the folder that holds the package's package.json.
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    return dir;
  } catch {
    return null;
  }
}

function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const p = normalize(join(root, decoded));
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep) ? p : null;
}

/** The inline <script> bodies of index.html (the import map), for the CSP hash. */
export function inlineScripts(webDir = WEB_DIR): string[] {
  const index = join(webDir, 'index.html');
  if (!existsSync(index)) return [];
  const html = readFileSync(index, 'utf8');
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
}

export function staticFiles(webDir = WEB_DIR) {
  const cache = new Map<string, { body: Buffer; type: string } | null>();
  const vendorRoots = new Map(Object.keys(VENDOR).map((n) => [n, packageRoot(n)]));
  const load = (path: string) => {
    if (cache.has(path)) return cache.get(path)!;
    let entry: { body: Buffer; type: string } | null = null;
    const type = TYPES[extname(path)];
    if (type && existsSync(path) && statSync(path).isFile()) entry = { body: readFileSync(path), type };
    cache.set(path, entry);
    return entry;
  };
  return async (ctx: Context, next: Next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) return next();
    let file: string | null = null;
    if (ctx.path.startsWith('/vendor/')) {
      const [, , name, ...rest] = ctx.path.split('/');
      const root = vendorRoots.get(name);
      if (root && VENDOR[name].includes(extname(ctx.path))) file = safeJoin(root, rest.join('/'));
    } else {
      const page = ctx.path === '/' ? 'index.html' : ctx.path === '/docs' || ctx.path === '/docs/' ? 'docs/index.html' : ctx.path;
      file = safeJoin(webDir, page);
    }
    const entry = file ? load(file) : null;
    if (!entry) return next();
    ctx.type = entry.type;
    ctx.set('Cache-Control', entry.type.startsWith('text/html') ? 'no-cache' : 'public, max-age=300');
    ctx.body = entry.body;
  };
}
