export function sourceHash(root: string, paths: string[]): string;
export function isCurrent(root: string, addon: string, stamp: string, hash: string): boolean;
