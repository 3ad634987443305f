import { loadConfigOrExit } from '../config/load';
import { createLogger } from '../observability/logger';
import { createTemporalClient } from '../temporal/connection';
import { createApiServer } from './server';

async function main() {
  const config = loadConfigOrExit();
  const logger = createLogger('api', config.env.LOG_LEVEL);
  const temporal = await createTemporalClient(config.env);
  const app = await createApiServer({ config, temporal, logger });
  await app.listen({ host: config.env.API_HOST, port: config.env.API_PORT });
  logger.info({ url: `http://${config.env.API_HOST}:${config.env.API_PORT}` }, 'API listening');
  const stop = async () => {
    await app.close();
    await temporal.connection.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
