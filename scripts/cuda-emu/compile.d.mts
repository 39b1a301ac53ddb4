// Types of compile.mjs for the TypeScript test that drives it (test/scripts/emu-compile.test.ts).
export declare function compiler(): string;
export declare function compilerVersion(cxx?: string): string | null;
export declare function compileAndLink(o: {
  root: string; units: string[]; flags: string[]; linkFlags?: string[]; output: string; objDir: string; readCaches?: string[]; jobs?: number;
}): Promise<{ ok: boolean; log: string; compiled: string[]; reused: string[] }>;
