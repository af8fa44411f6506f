export { loadConfig, environmentWithDotenv, secretValues, ConfigError, type AppConfig, type ConfigProblem } from './load-config.js';
export { VARIABLES, type Variable, type VariableName } from './variables.js';
export { parseDurationMs, formatDurationMs } from './durations.js';
