// `inkling ood fit --model DIR`: fits the model's "not a digit" detector (training/ood/fit.ts) and
// prints what it measured: false rejection of digits, rejection of held-out non-digits.
import { loadMnist } from '../../training/data/mnist.ts';
import { fitOod } from '../../training/ood/fit.ts';
import { backendNames, type BackendName } from '../nn/backends/registry.ts';
import { readModelFolder } from '../model/folder.ts';
import { loadModelFolder } from '../model/runtime.ts';
import { CliError, type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

export const OOD_FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string', metavar: 'DIR', help: 'model folder (required); ood.json and ood.safetensors are written into it' },
  backend: { type: 'enum', values: backendNames, default: 'cpu', help: 'where the kernels run' },
  threads: { type: 'int', min: 1, max: 256, help: 'CPU threads (cpu backend)' },
  'non-digits': { type: 'int', min: 8, default: 6000, help: 'synthetic non-digits in the fit' },
  'held-out': { type: 'int', min: 8, default: 2000, help: 'held-out non-digits, drawn validation and test digits each' },
  'train-digits': { type: 'int', min: 8, default: 10000, help: 'MNIST training digits in the fit (and as many drawn, up to --non-digits)' },
  'test-limit': { type: 'int', min: 1, help: 'report on only the first N MNIST test digits' },
  hidden: { type: 'int', min: 1, max: 4096, default: 64, help: 'hidden units of the detector' },
  epochs: { type: 'int', min: 1, max: 1000, default: 6, help: 'passes over the fit set' },
  'target-frr': { type: 'number', min: 0, max: 0.5, default: 0.0075, help: 'false rejection of validation digits the threshold is set for' },
  'min-confidence': { type: 'number', min: 0, max: 1, default: 0.5, help: 'also uncertain when the top probability is below this' },
  help: { type: 'boolean', help: 'show this help' },
};

export const command: Command = {
  name: 'ood',
  summary: 'fit the "not a digit" detector of a model (ood fit --model DIR)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(helpText('usage: inkling ood fit --model models/NAME [--non-digits 6000] [--target-frr 0.0075]', OOD_FLAGS));
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'fit') throw new CliError(`ood: unknown subcommand "${sub}"; the one subcommand is \`inkling ood fit --model DIR\``);
    const { flags } = parseFlags('ood fit', rest, OOD_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText('usage: inkling ood fit --model models/NAME', OOD_FLAGS));
      return 0;
    }
    const dir = flags.model as string | undefined;
    if (!dir) throw new CliError('ood fit: --model DIR is required, e.g. --model models/seed-cnn');
    const log = (s: string) => process.stdout.write(`${s}\n`);
    const model = await loadModelFolder(readModelFolder(dir), flags.backend as BackendName, (flags.threads as number | undefined) ?? null, (m) => process.stderr.write(`${m}\n`));
    try {
      const { rates } = await fitOod({
        model,
        data: loadMnist(),
        nonDigitCount: flags['non-digits'] as number,
        heldOutCount: flags['held-out'] as number,
        trainDigits: flags['train-digits'] as number,
        testLimit: flags['test-limit'] as number | undefined,
        hidden: flags.hidden as number,
        epochs: flags.epochs as number,
        targetFrr: flags['target-frr'] as number,
        minConfidence: flags['min-confidence'] as number,
        log,
      });
      for (const [k, v] of Object.entries(rates)) log(`${k}: ${(100 * v).toFixed(2)}%`);
      log(`wrote ood.json and ood.safetensors in ${dir}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};
