// Entry of a preprocessing worker thread. Workers do not inherit a loader registered with tsx's
// register() API in the main thread (bin/inkling.js does that), so register it here (a no-op
// in effect when `--import tsx` already did it through execArgv), then load the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./preprocess-worker.ts');
