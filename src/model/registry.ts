// The models a service serves: every model folder under INKLING_MODEL_DIR (or that folder alone),
// all loaded on one backend, one of them the default. `reload()` (SIGHUP, POST
// /api/admin/reload) rescans: new and changed folders are loaded (changed = another weights hash
// or card), removed ones dropped. The switch is one assignment of the entries map: a request
// already holding an entry finishes on it, and a replaced model is freed only once its batcher
// has drained, so no request is dropped.
import type { Backend } from '../nn/backend.ts';
import type { BackendName } from '../nn/backends/registry.ts';
import { CARD_FILE, defaultModelFolder, listModelFolders, ModelFolderError, readModelFolder } from './folder.ts';
import { createBackendOrRef, loadModelOn, type LoadedModel } from './runtime.ts';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** What runs one model's inference (the server's InferenceBatcher). */
export interface ModelRunner {
  drain(): Promise<void>;
}

export interface ModelEntry<R extends ModelRunner> {
  name: string;
  model: LoadedModel;
  runner: R;
  /** The card file's text when loaded (a changed card reloads even with the same weights). */
  cardText: string;
  /** Requests holding this entry (acquire/release): a retired entry is freed at zero. */
  users: number;
}

export interface ReloadReport {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  failed: { name: string; error: string }[];
  defaultModel: string;
  reason: string;
}

export interface RegistryOptions<R extends ModelRunner> {
  root: string;
  /** INKLING_MODEL: the default by name (null: the best evaluated). */
  preferred: string | null;
  backend: BackendName;
  threads: number | null;
  makeRunner: (model: LoadedModel) => R;
  warn: (m: string) => void;
}

export class ModelRegistry<R extends ModelRunner> {
  private entries = new Map<string, ModelEntry<R>>();
  private defaultName = '';
  /** Why the default is the default (for the log and /api/models). */
  reason = '';
  private reloading: Promise<ReloadReport> | null = null;

  private fixed = false;

  private constructor(private readonly opts: RegistryOptions<R>, readonly backend: Backend, readonly backendName: string) {}

  /** One model given by the caller (tests, embedding): reload() changes nothing, close() frees
   *  nothing but the runner. */
  static single<R extends ModelRunner>(model: LoadedModel, runner: R): ModelRegistry<R> {
    const name = model.identity.name;
    const reg = new ModelRegistry<R>({ root: model.dir, preferred: null, backend: 'ref', threads: null, makeRunner: () => runner, warn: () => {} }, model.backend, model.backendName);
    reg.fixed = true;
    reg.entries.set(name, { name, model, runner, cardText: '', users: 0 });
    reg.defaultName = name;
    reg.reason = 'the model given to the server';
    return reg;
  }

  static async open<R extends ModelRunner>(opts: RegistryOptions<R>): Promise<ModelRegistry<R>> {
    const { backend, name } = await createBackendOrRef(opts.backend, opts.threads, opts.warn);
    const reg = new ModelRegistry(opts, backend, name);
    try {
      const report = await reg.reload();
      if (reg.entries.size === 0) {
        throw new ModelFolderError(`no model could be loaded from ${opts.root}: ${report.failed.map((f) => `${f.name}: ${f.error}`).join('; ') || 'no model folders'}`);
      }
    } catch (e) {
      await reg.close();
      throw e;
    }
    return reg;
  }

  get default(): ModelEntry<R> {
    const e = this.entries.get(this.defaultName);
    if (!e) throw new Error('no default model');
    return e;
  }

  get(name: string): ModelEntry<R> | undefined {
    return this.entries.get(name);
  }

  list(): ModelEntry<R>[] {
    return [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get names(): string[] {
    return this.list().map((e) => e.name);
  }

  /** Rescans the folder; concurrent calls share one rescan. */
  reload(): Promise<ReloadReport> {
    if (this.fixed) {
      return Promise.resolve({ added: [], changed: [], removed: [], unchanged: this.names, failed: [], defaultModel: this.defaultName, reason: this.reason });
    }
    this.reloading ??= this.rescan().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async rescan(): Promise<ReloadReport> {
    const report: ReloadReport = { added: [], changed: [], removed: [], unchanged: [], failed: [], defaultModel: '', reason: '' };
    const next = new Map<string, ModelEntry<R>>();
    const retired: ModelEntry<R>[] = [];
    for (const dir of listModelFolders(this.opts.root)) {
      const name = basename(dir);
      const old = this.entries.get(name);
      try {
        const cardText = readFileSync(join(dir, CARD_FILE), 'utf8');
        const folder = readModelFolder(dir);
        if (old && old.model.identity.sha256 === folder.identity.sha256 && old.cardText === cardText) {
          next.set(name, old);
          report.unchanged.push(name);
          continue;
        }
        const model = loadModelOn(folder, this.backend, this.backendName, false);
        next.set(name, { name, model, runner: this.opts.makeRunner(model), cardText, users: 0 });
        (old ? report.changed : report.added).push(name);
        if (old) retired.push(old);
      } catch (e) {
        report.failed.push({ name, error: (e as Error).message });
        if (old) next.set(name, old); // keep serving the last good one
      }
    }
    for (const [name, e] of this.entries) {
      if (!next.has(name)) {
        report.removed.push(name);
        retired.push(e);
      }
    }
    if (next.size === 0 && this.entries.size > 0) {
      report.failed.push({ name: '*', error: `no model left in ${this.opts.root}; keeping the models loaded before` });
      return { ...report, removed: [], defaultModel: this.defaultName, reason: this.reason };
    }
    const { name: defaultName, reason } = this.chooseDefault(next);
    this.entries = next; // the switch: requests from here on see the new set
    this.defaultName = defaultName;
    this.reason = reason;
    report.defaultModel = defaultName;
    report.reason = reason;
    // Free replaced models once the requests already holding them are answered.
    for (const e of retired) void this.retire(e);
    return report;
  }

  private async retire(e: ModelEntry<R>): Promise<void> {
    while (e.users > 0) await new Promise((r) => setTimeout(r, 10));
    await e.runner.drain();
    e.model.dispose();
  }

  /** The entry for `name` (undefined: the default) held until release(); a reload meanwhile
   *  never frees it under the request. Returns null for an unknown name. */
  acquire(name?: string): { entry: ModelEntry<R>; release: () => void } | null {
    const entry = name === undefined ? this.default : this.entries.get(name);
    if (!entry) return null;
    entry.users++;
    let released = false;
    return {
      entry,
      release: () => {
        if (!released) entry.users--;
        released = true;
      },
    };
  }

  private chooseDefault(entries: Map<string, ModelEntry<R>>): { name: string; reason: string } {
    const preferred = this.opts.preferred;
    if (preferred !== null) {
      if (entries.has(preferred)) return { name: preferred, reason: `INKLING_MODEL=${preferred}` };
      if (entries.size > 0) this.opts.warn(`INKLING_MODEL=${preferred} names no loaded model (have: ${[...entries.keys()].join(', ')}); using the best evaluated instead`);
    }
    if (entries.size === 0) return { name: '', reason: '' };
    const { dir, reason } = defaultModelFolder(this.opts.root);
    const name = basename(dir);
    if (entries.has(name)) return { name, reason: preferred !== null ? `INKLING_MODEL=${preferred} is not loaded; ${reason}` : reason };
    const first = [...entries.keys()].sort()[0];
    return { name: first, reason: `the first loadable model (${name}, the best evaluated, failed to load)` };
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.runner.drain()));
    if (this.fixed) return;
    for (const e of this.entries.values()) e.model.dispose();
    this.entries.clear();
    this.backend.dispose();
  }
}
