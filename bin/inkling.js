#!/usr/bin/env node
// The `inkling` command. The sources are TypeScript run through tsx (no build step to go stale).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
