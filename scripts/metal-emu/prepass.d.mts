// Types of prepass.mjs for the TypeScript tests.
export interface PrepassKernel {
  name: string;
  line: number;
  buffers: { index: number; type: string }[];
}
export function prepass(source: string, path: string): { code: string; kernels: PrepassKernel[] };
export function prepassFile(src: string, dst: string, shownPath: string): PrepassKernel[];
