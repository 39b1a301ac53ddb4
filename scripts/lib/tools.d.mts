// Types of tools.mjs for the TypeScript tests that use it.
export function findOnPath(name: string): string | null;
export function npmNodeGypScript(): string | null;
export function nodeGypCommand(): [string, string[]];
