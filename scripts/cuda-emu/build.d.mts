// Types of build.mjs for the TypeScript tests that drive it (test/cuda-emu/).
export declare const repoRoot: string;
export declare const emuBuildDir: string;
export interface BuildResult {
  ok: boolean;
  output: string;
  log: string;
  compiled: string[];
  reused: string[];
}
export type Sanitizer = 'none' | 'address' | 'thread';
export declare function emuUnits(root?: string): { kernels: string[]; host: string[]; napi: string[]; emulator: string[] };
export declare function buildCudaEmuAddon(o?: { root?: string; outDir?: string; readCaches?: string[]; jobs?: number }): Promise<BuildResult>;
export declare function buildEmuProgram(o: {
  root?: string; name: string; units: string[]; withKernels?: boolean; sanitize?: Sanitizer; outDir: string; readCaches?: string[]; jobs?: number;
}): Promise<BuildResult>;
