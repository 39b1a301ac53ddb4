// Types of build.mjs for the TypeScript stage tests.
export function buildMetalEmu(opts?: { metalDir?: string; out?: string; objDir?: string; log?: (line: string) => void }): Promise<string>;
