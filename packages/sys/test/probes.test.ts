import { release } from "node:os";
import { describeKernel } from "@ebpf/testing";
import { describe, expect, it } from "vitest";
import {
  BpfFuncId,
  BpfLinkType,
  BpfMapType,
  BpfProgType,
  BtfKind,
  haveBoundedLoops,
  haveBpfLinks,
  haveBtf,
  haveBtfKind,
  haveHelper,
  haveLargePrograms,
  haveLinkType,
  haveMapType,
  haveProgType,
  kernelAtLeast,
  kernelVersion,
  MAP_TYPE_MIN_KERNEL,
  NotSupportedError,
  parseKernelVersion,
  requireMapType,
  uname,
} from "../src/index.js";

describe("kernel version parsing", () => {
  it("reads plain releases", () => {
    expect(parseKernelVersion("6.18.44-fc-v657")).toMatchObject({
      major: 6,
      minor: 18,
      patch: 44,
      source: "release",
    });
    expect(parseKernelVersion("5.4").code).toBe((5 << 16) + (4 << 8));
  });
  it("uses Debian's real patch level from uname's version", () => {
    const v = parseKernelVersion("5.10.0-23-amd64", "#1 SMP Debian 5.10.179-1 (2023-05-12)");
    expect(v).toMatchObject({ major: 5, minor: 10, patch: 179, source: "debian" });
  });
  it("uses Ubuntu's /proc/version_signature", () => {
    const v = parseKernelVersion(
      "5.15.0-91-generic",
      "#101-Ubuntu SMP",
      "Ubuntu 5.15.0-91.101-generic 5.15.131\n",
    );
    expect(v).toMatchObject({ major: 5, minor: 15, patch: 131, source: "ubuntu" });
  });
  it("clamps the patch level to 255 in the version code, like the kernel", () => {
    expect(parseKernelVersion("4.19.300").code).toBe((4 << 16) + (19 << 8) + 255);
  });
});

describeKernel("feature probes on the running kernel", () => {
  it("uname and the kernel version agree with Node", () => {
    expect(uname().release).toBe(release());
    expect(uname().sysname).toBe("Linux");
    expect(kernelVersion().major).toBeGreaterThanOrEqual(5);
    expect(kernelAtLeast(3, 19)).toBe(true);
    expect(kernelAtLeast(999, 0)).toBe(false);
  });

  // Expectations follow the first kernel with each feature, so the test holds on the test-vm kernels too.
  const since = (v: string) => {
    const [a, b] = v.split(".").map(Number);
    return kernelAtLeast(a, b);
  };

  it("map types", () => {
    for (const name of [
      "HASH",
      "ARRAY",
      "PERCPU_HASH",
      "LRU_HASH",
      "LPM_TRIE",
      "ARRAY_OF_MAPS",
      "HASH_OF_MAPS",
      "QUEUE",
      "STACK",
      "RINGBUF",
      "SK_STORAGE",
      "TASK_STORAGE",
      "BLOOM_FILTER",
      "CGROUP_STORAGE",
    ] as const)
      expect(haveMapType(BpfMapType[name]), `map type ${name}`).toBe(since(MAP_TYPE_MIN_KERNEL[name]!));
    expect(haveMapType(9999)).toBe(false);
    expect(() => requireMapType(9999)).toThrow(NotSupportedError);
  });

  it("program types, helpers, loops, large programs", () => {
    for (const t of [
      BpfProgType.SOCKET_FILTER,
      BpfProgType.XDP,
      BpfProgType.SCHED_CLS,
      BpfProgType.TRACEPOINT,
      BpfProgType.CGROUP_SKB,
      BpfProgType.CGROUP_SOCK_ADDR,
      BpfProgType.RAW_TRACEPOINT,
      BpfProgType.TRACING,
      BpfProgType.SK_LOOKUP,
    ])
      expect(haveProgType(t), `prog type ${t}`).toBe(true);
    expect(haveProgType(9999)).toBe(false);
    expect(haveHelper(BpfProgType.XDP, BpfFuncId.map_lookup_elem)).toBe(true);
    expect(haveHelper(BpfProgType.XDP, BpfFuncId.ringbuf_output)).toBe(true);
    expect(haveHelper(BpfProgType.SOCKET_FILTER, BpfFuncId.override_return)).toBe(false);
    expect(haveHelper(BpfProgType.XDP, 100000)).toBe(false);
    expect(haveBoundedLoops()).toBe(true);
    expect(haveLargePrograms()).toBe(true);
  });

  it("BTF kinds and link types", () => {
    expect(haveBtf()).toBe(true);
    const kinds: [keyof typeof BtfKind, string][] = [
      ["FUNC", "5.0"],
      ["FUNC_PROTO", "5.0"],
      ["VAR", "5.2"],
      ["DATASEC", "5.2"],
      ["FLOAT", "5.13"],
      ["DECL_TAG", "5.16"],
      ["TYPE_TAG", "5.17"],
      ["ENUM64", "6.0"],
    ];
    for (const [k, v] of kinds) expect(haveBtfKind(BtfKind[k]), `BTF kind ${k}`).toBe(since(v));
    expect(haveBpfLinks()).toBe(true);
    const links: [keyof typeof BpfLinkType, string][] = [
      ["CGROUP", "5.7"],
      ["NETNS", "5.8"],
      ["XDP", "5.9"],
      ["PERF_EVENT", "5.15"],
      ["TCX", "6.6"],
      ["NETKIT", "6.7"],
    ];
    for (const [l, v] of links) expect(haveLinkType(BpfLinkType[l]), `link type ${l}`).toBe(since(v));
  });
});
