// Entry of a preprocessing worker thread. Workers do not inherit a loader registered with tsx's
// register() API in the main thread (bin/inkling.js does that), so the worker loads the
// TypeScript itself, through tsx's CommonJS require hook, which transforms in this thread. tsx's
// ESM register() would start a module-hooks thread of its own in every worker: each worker then
// cost ~35 MB of resident memory against ~16 MB this way (measured with 3 workers, Node 20), and
// four workers on a 5+ core host took the service past its 500 MB bound under the hostile-upload
// check (bench:memory).
const { register } = require('tsx/cjs/api');

register();
require('./preprocess-worker.ts');
