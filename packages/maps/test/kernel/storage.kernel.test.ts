import { closeSync, openSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { Btf } from "@ebpf/btf";
import { btfLoad } from "@ebpf/sys";
import { describeKernel, kernelAtLeast } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BpfFlagsForTest as BpfFlags,
  CgrpStorage,
  expectNotSupported,
  InodeStorage,
  mapTypeNumber,
  probeMapType,
  SkStorage,
} from "../harness.js";
import { storageBtf } from "./storage-btf.js";

interface Pair {
  a: number;
  b: number;
}

describeKernel("local storage maps on the real kernel (BTF built in the test)", () => {
  let btfFd: { close(): void; raw: number };
  let intId = 0;
  let pairId = 0;
  let btf: Btf;
  let server: Server;
  beforeAll(async () => {
    const built = storageBtf();
    ({ btf, intId, pairId } = built);
    btfFd = btfLoad({ btf: built.bytes });
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => {
    btfFd?.close();
    server?.close();
  });

  const spec = () => ({
    keySize: 4,
    valueSize: 8,
    maxEntries: 0,
    flags: BpfFlags.BPF_F_NO_PREALLOC,
    btfFd: btfFd.raw,
    btfKeyTypeId: intId,
    btfValueTypeId: pairId,
  });

  it("SkStorage: per-socket values keyed by a socket fd, decoded through BTF", () => {
    using m = SkStorage.create<Pair>(spec(), { btf });
    const sockFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    expect(sockFd).toBeGreaterThan(0);
    expect(m.get(sockFd)).toBeUndefined();
    m.set(sockFd, { a: 1, b: 2 });
    expect(m.get(sockFd)).toEqual({ a: 1, b: 2 });
    expect(m.delete(sockFd)).toBe(true);
    expect(m.get(sockFd)).toBeUndefined();
  });

  it("CgrpStorage: per-cgroup values keyed by a cgroup directory fd (Linux 6.2)", () => {
    if (!kernelAtLeast("6.2")) {
      const err = expectNotSupported(() => CgrpStorage.create(spec()), "6.2");
      expect(err.feature).toBe("map type cgrp_storage");
      expect(probeMapType(mapTypeNumber("cgrp_storage"))).toBe(false);
      return;
    }
    const dir = openSync("/sys/fs/cgroup/unified", "r");
    try {
      using cg = CgrpStorage.create(spec());
      expect(probeMapType(mapTypeNumber("cgrp_storage"))).toBe(true);
      cg.set(dir, Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0));
      expect(cg.get(dir)?.[0]).toBe(7);
      expect(cg.delete(dir)).toBe(true);
      expect(cg.get(dir)).toBeUndefined();
    } finally {
      closeSync(dir);
    }
  });

  it("InodeStorage: created with BTF (Linux 5.10 with CONFIG_BPF_LSM)", () => {
    if (!kernelAtLeast("5.10")) {
      expectNotSupported(() => InodeStorage.create(spec()), "5.10");
      return;
    }
    using ino = InodeStorage.create(spec());
    expect(ino.info().typeName).toBe("inode_storage");
    expect(probeMapType(mapTypeNumber("inode_storage"))).toBe(true);
  });
});
