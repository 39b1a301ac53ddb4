// Small helpers shared by the build and stage scripts.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The absolute path of `name` on PATH, or null. */
export function findOnPath(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** npm's bundled node-gyp script: npm_config_node_gyp inside npm scripts, else found beside the
 *  npm on PATH (…/npm/bin/npm-cli.js → …/npm/node_modules/node-gyp/bin/node-gyp.js); or null. */
export function npmNodeGypScript() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npm = findOnPath('npm');
  if (!npm) return null;
  const script = join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(script) ? script : null;
}

/** How to run node-gyp: npm puts its bundled copy on PATH inside lifecycle and run scripts;
 *  otherwise npm's own copy, or npx's. Returns [command, leading args]. */
export function nodeGypCommand() {
  if (findOnPath('node-gyp')) return ['node-gyp', []];
  const script = npmNodeGypScript();
  if (script) return [process.execPath, [script]];
  return ['npx', ['--yes', 'node-gyp']];
}
