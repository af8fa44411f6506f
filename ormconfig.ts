/**
 * TypeORM entry point for tooling (`typeorm -d dist/ormconfig.js ...`). The app itself builds its
 * DataSource through core/db/data-source.ts from the validated configuration.
 */
import { environmentWithDotenv, loadConfig } from './core/config/index.js';
import { createDataSource } from './core/db/data-source.js';

const config = loadConfig(environmentWithDotenv());
export default createDataSource(config.postgres.url, { poolMax: config.postgres.poolMax });
