/** `npm run db:migrate`: creates the database if missing, then applies pending TypeORM migrations. */
import { boot } from '../core/process/boot.js';
import { ensureDatabase } from '../core/db/ensure-database.js';
import { runMigrations } from '../core/db/data-source.js';

const { config, logger } = boot('migrate');
const created = await ensureDatabase(config.postgres.url);
const applied = await runMigrations(config.postgres.url);
logger.info('database ready', { created, applied });
process.exit(0);
