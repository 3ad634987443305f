import type { Config } from '../config/load';
import { waitForHttp } from './waitForHttp';

export interface StackService {
  name: string;
  /** Entry file relative to the project root, run with tsx. */
  entry: string;
  ports: number[];
  env?: NodeJS.ProcessEnv;
  urls: Array<[string, string]>;
  ready?: () => Promise<void>;
}

/** The processes `npm start` runs besides the Temporal dev server, in start order. */
export function STACK_SERVICES(config: Config): StackService[] {
  const api = `http://${config.env.API_HOST}:${config.env.API_PORT}`;
  const metricsPort = Number(config.env.WORKER_METRICS_ADDRESS.split(':').pop());
  return [
    {
      name: 'worker',
      entry: 'workers/main.ts',
      ports: [metricsPort],
      urls: [['Worker metrics', `http://${config.env.WORKER_METRICS_ADDRESS}/metrics`]],
    },
    {
      name: 'api',
      entry: 'src/http/main.ts',
      ports: [config.env.API_PORT],
      urls: [['arsync API', `${api}/health`]],
      ready: () => waitForHttp(`${api}/health`),
    },
  ];
}
