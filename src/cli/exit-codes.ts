/** Documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** A finding reached the --fail-on severity. */
  findings: 1,
  /** Bad arguments or unreadable input. */
  usage: 2,
  /** A bug in alf. */
  internal: 3,
  /** Interrupted (SIGINT): 128 + signal 2, as shells report it. */
  interrupted: 130,
} as const;
