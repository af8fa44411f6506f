/** The mutable state one simulator instance shares between its API, control API and `control` object. */
import { FaultInjector } from './faults.js';
import { faultSettingsOf, type FaultSettings, type SimulatorOptions } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import { RequestLog } from './request-log.js';
import { Simulation } from './simulation.js';

export class SimulatorState {
  readonly sim: Simulation;
  readonly limiter = new RateLimiter();
  readonly faults: FaultInjector;
  readonly log = new RequestLog();
  readonly clock: () => number;
  readonly faultSeed: number;
  settings: FaultSettings;
  private readonly initial: FaultSettings;

  constructor(options: SimulatorOptions) {
    this.sim = new Simulation(options.seed, options.coins, options.stepMs, options.staleFraction, options.faultSeed);
    this.faults = new FaultInjector(options.faultSeed);
    this.clock = options.clock;
    this.faultSeed = options.faultSeed;
    this.initial = faultSettingsOf(options);
    this.settings = structuredClone(this.initial);
  }

  /** Merges a validated patch; `failNext` entries are appended to the queue. */
  applyPatch(patch: Partial<FaultSettings>): void {
    const { failNext, ...rest } = structuredClone(patch);
    Object.assign(this.settings, rest);
    if (failNext) this.settings.failNext.push(...failNext);
  }

  /** Back to the start options, with zeroed stats, empty rate windows and a rewound fault PRNG. */
  reset(): void {
    this.settings = structuredClone(this.initial);
    this.log.reset();
    this.limiter.reset();
    this.faults.reset();
  }
}
