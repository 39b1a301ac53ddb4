// Where inkling finds its files when no path is given. The shipped model is found relative to the
// package (so `inkling` works from any folder, and from a global or npx install); the data folder
// (embedded PostgreSQL cluster, spool) is `.data/` inside the checkout when run from within it,
// else a per-user folder:
//   Linux and others  $XDG_DATA_HOME/inkling, default ~/.local/share/inkling
//   macOS             ~/Library/Application Support/inkling
//   Windows           %LOCALAPPDATA%\inkling
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding inkling's package.json. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The shipped models folder. */
export function defaultModelsDir(): string {
  return join(PACKAGE_ROOT, 'models');
}

export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'inkling');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'inkling');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'inkling');
}

/** `.data` in the checkout when `cwd` is inside it, else the per-user folder. */
export function defaultDataDir(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env, root = PACKAGE_ROOT): string {
  return isInside(resolve(cwd), root) ? join(root, '.data') : userDataDir(env);
}
