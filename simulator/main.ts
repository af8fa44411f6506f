/**
 * Standalone simulator process: `SIM_*` variables → options, then one JSON line on stdout with the
 * base URL; closes cleanly on SIGTERM / SIGINT. Bad variables are all reported at once (exit code 2).
 */
import { parseSimulatorEnv, SimulatorOptionsError, type SimulatorOptions } from './options.js';
import { startSimulator } from './server.js';

let options: SimulatorOptions;
try {
  options = parseSimulatorEnv(process.env);
} catch (error) {
  if (!(error instanceof SimulatorOptionsError)) throw error;
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: error.message, problems: error.problems })}\n`);
  process.exit(2);
}

const simulator = await startSimulator(options);
process.stdout.write(
  `${JSON.stringify({ level: 'info', msg: 'coingecko simulator listening', url: simulator.url, port: simulator.port, seed: options.seed, coins: options.coins })}\n`,
);

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'close failed', error: String(error) })}\n`);
        process.exit(1);
      },
    );
  });
}
