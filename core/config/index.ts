export {
  loadConfig,
  environmentWithDotenv,
  secretValues,
  ConfigError,
  CONFIG_NEEDS,
  type AppConfig,
  type ConfigNeed,
  type ConfigProblem,
  type LoadConfigOptions,
} from './load-config.js';
export { VARIABLES, type Variable, type VariableName } from './variables.js';
export { parseDurationMs, formatDurationMs } from './durations.js';
