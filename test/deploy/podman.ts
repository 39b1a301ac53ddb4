// Podman plumbing for the deploy test: every call runs with a private containers.conf (runc, and
// rlimits this VM allows: its runc cannot raise RLIMIT_NOFILE/NPROC, see shared/PLATFORM.md), so
// nothing on the machine is reconfigured. Containers of one compose project are found by label.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

let confPath: string | null = null;
export function podmanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  if (!confPath) {
    const dir = mkdtempSync(join(tmpdir(), 'inkling-podman-'));
    confPath = join(dir, 'containers.conf');
    writeFileSync(confPath, '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]\n[engine]\nruntime = "runc"\n');
  }
  return { ...process.env, CONTAINERS_CONF: confPath, ...extra };
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: ROOT, env: opts.env ?? podmanEnv(), encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, input: opts.input, maxBuffer: 64 * 1024 * 1024 });
}

/** Runs a command and returns its stdout; throws with its stderr on failure. */
export function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error ?? '')).slice(-2000)}`);
  return r.stdout;
}

export function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Container names of a compose project's service, in replica order. */
export function containersOf(project: string, service: string): string[] {
  const out = must('podman', ['ps', '-a', '--filter', `label=io.podman.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}']);
  return out.split('\n').filter(Boolean).sort();
}

/** Removes everything a compose project left: containers (with their anonymous volumes), named
 *  volumes, its network. Safe to call twice. */
export function removeProject(project: string): void {
  const label = `label=io.podman.compose.project=${project}`;
  const ids = run('podman', ['ps', '-aq', '--filter', label]).stdout.split('\n').filter(Boolean);
  if (ids.length) run('podman', ['rm', '-f', '-v', '-t', '0', ...ids]);
  const vols = run('podman', ['volume', 'ls', '-q', '--filter', label]).stdout.split('\n').filter(Boolean);
  if (vols.length) run('podman', ['volume', 'rm', '-f', ...vols]);
  run('podman', ['network', 'rm', '-f', `${project}_default`]);
}
