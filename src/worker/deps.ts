import type { ActivityDeps } from '../../activities';
import type { Config } from '../config/load';
import type { Logger } from '../observability/logger';

/** Builds the production clients the activities use, from configuration. */
export function createActivityDeps(_config: Config, _log: Logger): ActivityDeps {
  return {};
}
