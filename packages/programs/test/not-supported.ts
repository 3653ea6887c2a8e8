import { NotSupportedError } from "@ebpf/sys";
import { expect } from "vitest";

/**
 * Asserts that `fn` throws the library's typed NotSupportedError (code ERR_EBPF_NOT_SUPPORTED) naming
 * `minKernel`, the first mainline kernel with the feature; returns the error for further checks.
 */
export function expectNotSupported(fn: () => unknown, minKernel: string): NotSupportedError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NotSupportedError);
  const e = err as NotSupportedError;
  expect(e.code).toBe("ERR_EBPF_NOT_SUPPORTED");
  expect(e.minKernel).toBe(minKernel);
  expect(e.message).toContain(`needs Linux ${minKernel}`);
  return e;
}
