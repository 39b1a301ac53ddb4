// What a subcommand provides to the dispatcher in main.ts.
export interface Command {
  name: string;
  /** One line for `inkling --help`. */
  summary: string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}
