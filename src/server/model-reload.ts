// Hot reload of the served models (SIGHUP in `inkling serve`, POST /api/admin/reload): the
// registry rescans the model folder (src/model/registry.ts); this logs what changed and why the
// default is the default.
import type { ReloadReport } from '../model/registry.ts';
import type { AppDeps } from './app.ts';

/** Rescans the model folder (SIGHUP, POST /api/admin/reload) and logs what changed. */
export async function reloadModels(deps: AppDeps): Promise<ReloadReport> {
  const r = await deps.models.reload();
  deps.logger.info(`models reloaded: added [${r.added.join(', ')}], changed [${r.changed.join(', ')}], removed [${r.removed.join(', ')}], unchanged [${r.unchanged.join(', ')}]; default ${deps.models.default.model.identity.version}: ${r.reason}`);
  for (const f of r.failed) deps.logger.warn(`model ${f.name} not loaded: ${f.error}`);
  return r;
}

