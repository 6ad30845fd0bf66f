// The part of fs-native-extensions (no bundled types) that state-lock.ts uses.
declare module 'fs-native-extensions' {
  /** An exclusive (or shared) lock on a byte range of an open file; false when another holder has it. */
  export function tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number, offset?: number, length?: number): void;
}
