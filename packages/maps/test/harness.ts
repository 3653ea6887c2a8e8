// Re-exports for tests: the package's public API plus the ABI flags tests need.
export { BpfFlags as BpfFlagsForTest } from "@ebpf/sys";
export { expectNotSupported } from "@ebpf/testing";
export * from "../src/index.js";
