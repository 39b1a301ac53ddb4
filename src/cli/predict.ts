// `inkling predict FILE|DIR|GLOB...`: classify image files without the server or a database,
// batched on the chosen backend; JSON lines (default) or CSV on stdout (or --out), a summary with
// images/s on stderr. Exit code 1 when any input failed (each failure is a record with its error).
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { backendNames, type BackendName } from '../nn/backends/registry.ts';
import { defaultModelFolder, readModelFolder } from '../model/folder.ts';
import { loadModelFolder } from '../model/runtime.ts';
import { defaultModelsDir } from '../paths.ts';
import { expandInputs } from '../predict/inputs.ts';
import { csvHeader, csvLine, jsonLine, type OutputFormat } from '../predict/format.ts';
import { INPUT_MODES, predictFiles, type InputMode } from '../predict/run.ts';
import { PreprocessPool } from '../server/preprocess-pool.ts';
import { CliError, type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

export const PREDICT_FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string', metavar: 'DIR', help: 'model folder, or a folder of model folders (default: the shipped models/, best evaluated)' },
  backend: { type: 'enum', values: backendNames, default: 'cpu', help: 'where the kernels run' },
  threads: { type: 'int', min: 1, max: 256, help: 'CPU kernel threads (cpu backend)' },
  format: { type: 'enum', values: ['jsonl', 'csv'], default: 'jsonl', help: 'output format' },
  'top-k': { type: 'int', min: 1, max: 10, default: 3, help: 'probabilities of the k most likely digits' },
  batch: { type: 'int', min: 1, max: 4096, default: 256, help: 'images per forward pass' },
  input: { type: 'enum', values: INPUT_MODES, default: 'auto', help: 'image: the service preprocessing; mnist: 28x28 MNIST frames as is; auto: mnist for 28x28 gray frames on black, image otherwise' },
  workers: { type: 'int', min: 0, max: 64, help: 'preprocessing threads (default cores - 1; 0 = on the main thread)' },
  out: { type: 'string', metavar: 'FILE', help: 'write the records here instead of stdout' },
  quiet: { type: 'boolean', default: false, help: 'no summary on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const USAGE = `usage: inkling predict FILE|DIR|GLOB... [--model DIR] [--format jsonl|csv] [--top-k 3] [--backend cpu]

Folders are searched recursively for .png .jpg .jpeg .webp .gif; quote globs ('digits/**/*.png').
Exit code 0 when every input was classified, 1 when any failed (its record holds the error).`;

export const command: Command = {
  name: 'predict',
  summary: 'classify image files (batched, no server): JSON lines or CSV',
  async run(argv) {
    const positional: string[] = [];
    const flagArgs: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--') {
        positional.push(...argv.slice(i + 1));
        break;
      }
      if (a.startsWith('--')) {
        flagArgs.push(a);
        const spec = PREDICT_FLAGS[a.slice(2)];
        if (spec && spec.type !== 'boolean' && !a.includes('=') && i + 1 < argv.length) flagArgs.push(argv[++i]);
      } else positional.push(a);
    }
    const { flags } = parseFlags('predict', flagArgs, PREDICT_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText(USAGE, PREDICT_FLAGS));
      return 0;
    }
    if (positional.length === 0) throw new CliError('predict: give at least one FILE, DIR or GLOB, e.g. `inkling predict digits/*.png`');
    const warn = (m: string) => process.stderr.write(`inkling predict: ${m}\n`);
    const modelArg = (flags.model as string | undefined) ?? defaultModelsDir();
    const { dir } = defaultModelFolder(modelArg);
    const folder = readModelFolder(dir);
    const { files, missing } = expandInputs(positional);
    const model = await loadModelFolder(folder, flags.backend as BackendName, (flags.threads as number | undefined) ?? null, warn);
    const workers = (flags.workers as number | undefined) ?? Math.max(1, availableParallelism() - 1);
    const pool = workers > 0 ? new PreprocessPool(workers) : null;
    const format = flags.format as OutputFormat;
    const topK = flags['top-k'] as number;
    const outPath = flags.out as string | undefined;
    const sink = outPath ? createWriteStream(outPath) : process.stdout;
    // A reader that goes away (`| head`) ends the run quietly, like other Unix tools.
    let closed = false;
    let wakeWriter: (() => void) | null = null;
    sink.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closed = true;
      wakeWriter?.();
    });
    const write = (s: string) =>
      closed || sink.write(s)
        ? Promise.resolve()
        : new Promise<void>((r) => {
            wakeWriter = r;
            sink.once('drain', () => r());
          });
    let failed = 0;
    let done = 0;
    const t0 = performance.now();
    try {
      if (format === 'csv') await write(csvHeader(topK));
      for (const m of missing) {
        failed++;
        const rec = { file: m.arg, model: model.identity.version, error: m.error };
        await write(format === 'csv' ? csvLine(rec, topK) : jsonLine(rec));
      }
      for await (const rec of predictFiles(model, files, { batch: flags.batch as number, topK, mode: flags.input as InputMode, pool })) {
        if (closed) break;
        if (rec.error !== undefined) {
          failed++;
          warn(`${rec.file}: ${rec.error}`);
        } else done++;
        await write(format === 'csv' ? csvLine(rec, topK) : jsonLine(rec));
      }
    } finally {
      await pool?.close();
      model.dispose();
      if (outPath) await new Promise<void>((r) => (sink as ReturnType<typeof createWriteStream>).end(() => r()));
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const m of missing) warn(`${m.arg}: ${m.error}`);
    if (!flags.quiet) {
      warn(`${done} images classified in ${seconds.toFixed(2)} s (${Math.round(done / Math.max(seconds, 1e-9)).toLocaleString('en-US')} images/s) by ${model.identity.version} on ${model.backendName}${failed ? `; ${failed} failed` : ''}`);
    }
    return failed > 0 ? 1 : 0;
  },
};
