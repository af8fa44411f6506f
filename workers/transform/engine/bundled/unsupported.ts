import { PermanentError } from '../../../../core/errors.js';

/**
 * The project uses something the bundled runner does not implement. The run fails before anything is
 * built, naming the file and the construct: the runner never skips what it does not understand.
 */
export class UnsupportedConstructError extends PermanentError {
  constructor(
    readonly file: string,
    readonly construct: string,
  ) {
    super(
      `bundled dbt runner: ${file}: unsupported construct: ${construct} (see dbt/README.md for what the bundled runner supports; use TRANSFORM_RUNNER=dbt for the rest)`,
    );
    this.name = 'UnsupportedConstructError';
  }
}
