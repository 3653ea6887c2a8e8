import { constants } from "node:os";

/** errno values the library checks for by number (Linux generic ABI, as on x86-64 and arm64). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ENOSYS: 38,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  /** Kernel-internal "not supported" that leaks out of bpf() on some paths. */
  ENOTSUPP: 524,
} as const;

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
// Linux aliases: prefer the names the kernel sources use.
names.set(11, "EAGAIN");
names.set(95, "EOPNOTSUPP");
names.set(35, "EDEADLK");
names.set(524, "ENOTSUPP");

/**
 * The symbolic name of an errno value, e.g. `errnoName(1) === "EPERM"`; `"E<n>"` for an unknown value.
 *
 * @example
 * ```ts
 * errnoName(22); // "EINVAL"
 * ```
 */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

/** The errno value of a symbolic name, e.g. `errnoValue("ENOENT") === 2`, or `undefined`. */
export function errnoValue(name: string): number | undefined {
  for (const [v, n] of names) if (n === name) return v;
  return undefined;
}
