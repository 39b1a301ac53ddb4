// `inkling export --format onnx --model DIR [--out FILE] [--fold-batchnorm|--no-fold-batchnorm]`:
// the model as ONNX (src/nn/onnx/, our own exporter), for ONNX Runtime and other deployments.
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { exportOnnx } from '../nn/onnx/export.ts';
import { defaultModelFolder, readModelFolder } from '../model/folder.ts';
import { loadModelFolder } from '../model/runtime.ts';
import { defaultModelsDir, packageVersion } from '../paths.ts';
import { type FlagSpec, helpText, parseFlags } from './args.ts';
import type { Command } from './command.ts';

export const EXPORT_FLAGS: Record<string, FlagSpec> = {
  format: { type: 'enum', values: ['onnx'], default: 'onnx', help: 'output format' },
  model: { type: 'string', metavar: 'DIR', help: 'model folder (default: the shipped model)' },
  out: { type: 'string', metavar: 'FILE', help: 'output file (default: model.onnx in the model folder)' },
  'fold-batchnorm': { type: 'boolean', default: true, help: 'fold batch norm into the convolutions (--no-fold-batchnorm keeps BatchNormalization nodes)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const command: Command = {
  name: 'export',
  summary: 'export a model as ONNX',
  async run(argv) {
    const { flags } = parseFlags('export', argv, EXPORT_FLAGS);
    if (flags.help) {
      process.stdout.write(helpText('usage: inkling export --format onnx [--model models/NAME] [--out FILE] [--no-fold-batchnorm]', EXPORT_FLAGS));
      return 0;
    }
    const folder = readModelFolder(defaultModelFolder((flags.model as string | undefined) ?? defaultModelsDir()).dir);
    const model = await loadModelFolder(folder, 'ref', null, () => {});
    try {
      const fold = flags['fold-batchnorm'] as boolean;
      const bytes = await exportOnnx(model.module, {
        foldBatchNorm: fold,
        temperature: folder.card.temperature,
        name: folder.identity.name,
        doc: `${folder.identity.version} (${folder.card.architecture}), exported by inkling; input: [batch, 1, 28, 28] float32, (pixel/255 - 0.1307) / 0.3081, white digit on black, MNIST framing`,
        metadata: { version: folder.identity.version, weights_sha256: folder.identity.sha256, architecture: folder.card.architecture, temperature: String(folder.card.temperature), batchnorm: fold ? 'folded' : 'kept' },
        producerVersion: packageVersion(),
      });
      const out = (flags.out as string | undefined) ?? join(folder.dir, 'model.onnx');
      const tmp = `${out}.tmp-${process.pid}`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, out);
      process.stdout.write(`wrote ${out} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset 13, batch norm ${fold ? 'folded' : 'kept'}) from ${folder.identity.version}\n`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};
