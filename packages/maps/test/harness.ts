// Re-exports for tests: the package's public API plus the ABI flags tests need.
import { NotSupportedError } from "@ebpf/sys";
import { expect } from "vitest";

export { BpfFlags as BpfFlagsForTest } from "@ebpf/sys";
export * from "../src/index.js";

/**
 * Asserts that `fn` throws the library's typed `NotSupportedError` naming `minKernel` (undefined when no
 * kernel has the feature): what the kernel tests check on kernels older than a feature.
 */
export function expectNotSupported(fn: () => unknown, minKernel: string | undefined): NotSupportedError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NotSupportedError);
  expect(err).toMatchObject({ code: "ERR_EBPF_NOT_SUPPORTED", minKernel });
  return err as NotSupportedError;
}
