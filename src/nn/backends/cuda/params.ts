// The cuda backend's own encodings; the ones every device backend shares live in
// ../device/params.ts (re-exported here for the tests and tools that import them from cuda).

export * from '../device/params.ts';

export type GemmVariantName = 'simt' | 'tf32';

/** INKLING_CUDA_GEMM / the `gemm` option: 'simt' (fp32 FMA, default) or 'tf32' (tensor cores). */
export function parseGemmVariant(value: string | undefined): GemmVariantName {
  if (value === undefined || value === '') return 'simt';
  if (value === 'simt' || value === 'tf32') return value;
  throw new Error(`cuda backend: INKLING_CUDA_GEMM must be 'simt' or 'tf32', got '${value}'`);
}
