// Worker entry for batch-worker.ts: workers do not inherit the parent's tsx loader, so register
// it here (as bin/inkling.js does) before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./batch-worker.ts');
