// `inkling eval --model DIR`: test figures, temperature scaling, plots (training/evaluate.ts),
// written to DIR/eval/ (untracked), or with --write-card into DIR's card and next to it.
import { join } from 'node:path';
import { evaluate } from '../../training/evaluate.ts';
import { backendNames, type BackendName } from '../nn/backends/registry.ts';
import { CliError, defineFlags, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

export const EVAL_FLAGS = defineFlags({
  model: { type: 'string', metavar: 'DIR', help: 'checkpoint folder written by `inkling train --out DIR` (required)' },
  backend: { type: 'enum', values: backendNames, default: 'cpu', help: 'where the kernels run' },
  threads: { type: 'int', min: 1, max: 256, help: 'CPU threads (cpu backend)' },
  data: { type: 'string', metavar: 'DIR', help: 'folder with the four MNIST IDX files' },
  'test-limit': { type: 'int', min: 1, help: 'evaluate only the first N test images' },
  'val-limit': { type: 'int', min: 1, help: 'fit the temperature on only the first N validation images' },
  'sheet-limit': { type: 'int', min: 0, default: 400, help: 'most images on the misclassified contact sheet' },
  'write-card': { type: 'boolean', help: 'write the figures and the temperature into DIR/model.json and the plots next to it (default: DIR/eval/, model.json untouched)' },
  help: { type: 'boolean', help: 'show this help' },
});

export const command: Command = {
  name: 'eval',
  summary: 'evaluate a checkpoint: test figures, calibration, plots',
  async run(argv) {
    const { flags } = parseFlags('eval', argv, EVAL_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText('usage: inkling eval --model models/NAME [--backend cpu]', EVAL_FLAGS));
      return 0;
    }
    const modelDir = flags.model;
    if (modelDir === undefined) throw new CliError('eval: --model DIR is required, e.g. --model models/seed-cnn');
    const writeCard = flags['write-card'] === true;
    await evaluate({
      modelDir,
      backend: flags.backend,
      threads: flags.threads,
      dataDir: flags.data,
      testLimit: flags['test-limit'],
      validationLimit: flags['val-limit'],
      sheetLimit: flags['sheet-limit'],
      updateCard: writeCard,
      outDir: writeCard ? modelDir : join(modelDir, 'eval'),
    });
    return 0;
  },
};
