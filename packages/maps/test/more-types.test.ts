import { BtfBuilder } from "@ebpf/btf";
import { BpfMapType, Errno, NotSupportedError, SyscallError } from "@ebpf/sys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setMapKernel } from "../src/kernel.js";
import { FakeKernel } from "./fake-kernel.js";
import { HashMap, StructOpsMap, TaskStorage, XskMap } from "./harness.js";

let k: FakeKernel;
beforeEach(() => {
  k = new FakeKernel();
  setMapKernel(k);
});
afterEach(() => setMapKernel(undefined));

describe("operations a map type does not offer to user space", () => {
  it("a lookup the kernel refuses with EOPNOTSUPP is NotSupportedError (get, has, entries)", () => {
    k.lookupErrno.set(BpfMapType.XSKMAP, Errno.EOPNOTSUPP);
    using m = XskMap.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
    m.set(0, 5); // the fake keeps it, so entries() has a key to look up
    for (const op of [() => m.get(0), () => m.has(0), () => [...m.entries()]]) {
      const err = (() => {
        try {
          op();
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(NotSupportedError);
      expect(err).toMatchObject({
        feature: "BPF_MAP_LOOKUP_ELEM on xskmap maps",
        minKernel: undefined,
        cause: expect.objectContaining({ errnoName: "EOPNOTSUPP" }),
      });
    }
  });

  it("a key walk the kernel refuses with ENOTSUPP is NotSupportedError", () => {
    k.nextKeyErrno.set(BpfMapType.TASK_STORAGE, Errno.ENOTSUPP);
    using m = TaskStorage.create({ keySize: 4, valueSize: 8, maxEntries: 1 });
    expect(() => [...m.keys()]).toThrow(NotSupportedError);
    expect(() => [...m.keys()]).toThrow(/BPF_MAP_GET_NEXT_KEY on task_storage maps/);
  });

  it("updates keep the SyscallError: there EOPNOTSUPP means an fd of the wrong kind", () => {
    k.updateErrno.set(BpfMapType.XSKMAP, Errno.EOPNOTSUPP);
    using m = XskMap.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(() => m.set(0, 5)).toThrow(SyscallError);
  });

  it("other lookup errors are untouched", () => {
    k.lookupErrno.set(BpfMapType.HASH, Errno.EFAULT);
    using m = HashMap.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(() => m.get(new Uint8Array(4))).toThrow(SyscallError);
  });
});

describe("StructOpsMap", () => {
  // A stand-in for the kernel's bpf_struct_ops_<name> value struct.
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4);
  const valueTypeId = b.addStruct("bpf_struct_ops_demo", 8, [
    { name: "state", type: u32, bitOffset: 0 },
    { name: "flags", type: u32, bitOffset: 32 },
  ]);
  const vmlinux = b.build();
  const spec = { keySize: 4, valueSize: 8, maxEntries: 1, btfVmlinuxValueTypeId: valueTypeId };

  it("is created from a spec without btfFd: a placeholder BTF is lent to the kernel, then closed", () => {
    using m = StructOpsMap.create(spec);
    expect(k.loadedBtf).toHaveLength(1);
    expect(k.btfFds.size).toBe(0);
    expect(m.info()).toMatchObject({ typeName: "struct_ops", btfVmlinuxValueTypeId: valueTypeId });
  });

  it("uses the spec's btfFd when there is one", () => {
    const own = k.loadBtf(new Uint8Array(1));
    using _m = StructOpsMap.create({ ...spec, btfFd: own });
    expect(k.loadedBtf).toHaveLength(1);
    expect(k.btfFds.has(own)).toBe(true);
  });

  it("decodes the value through kernel BTF by btfVmlinuxValueTypeId", () => {
    using m = StructOpsMap.create<{ state: number; flags: number }>(spec, { btf: vmlinux });
    m.set(0, { state: 1, flags: 7 });
    expect(m.get(0)).toEqual({ state: 1, flags: 7 });
  });

  it("other maps report btfVmlinuxValueTypeId 0", () => {
    using m = HashMap.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(m.info().btfVmlinuxValueTypeId).toBe(0);
  });
});
