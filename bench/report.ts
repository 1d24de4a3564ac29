// What one measurement reports: the child process prints it as its last stdout line.

export interface Report {
  /** The settings measured, for the table's legend. */
  readonly settings: string;
  /** Jobs the measurement counted (per-job figures divide by this). */
  readonly jobs: number;
  /** Throughput scenarios: the time measured and jobs per second. */
  readonly ms?: number;
  readonly rate?: number;
  /** CPU per job in µs: the process running the system's workers, and its database server. */
  readonly nodeUs?: number;
  readonly dbUs?: number;
  /** Latency scenarios: insert→start in ms. */
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
}

export type Metric = Exclude<keyof Report, 'settings' | 'jobs'>;

/** A child's command line: `<scenario> <dbUrl> <n> [option]`. */
export interface ChildArgs {
  readonly scenario: string;
  readonly url: string;
  readonly n: number;
  readonly option: string | undefined;
}

/** Prints a child's progress to stderr, named after its script. */
export function log(message: string): void {
  process.stderr.write(`  [${process.argv[1]?.split('/').pop()}] ${message}\n`);
}

/** The main of a child: parses its arguments, runs one measurement, prints its report, exits. */
export function childMain(measure: (args: ChildArgs) => Promise<Report>): void {
  const [scenario, url, count, option] = process.argv.slice(2);
  const n = Number(count);
  const run = async () => {
    if (!scenario || !url || !Number.isInteger(n) || n <= 0)
      throw new Error(`usage: ${process.argv[1]} <scenario> <dbUrl> <n> [option]`);
    const report = await measure({ scenario, url, n, option });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  };
  run().then(
    () => process.exit(0),
    (error: unknown) => {
      log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
