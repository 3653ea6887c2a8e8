// Foundation smoke test: TypeScript -> koffi -> bpf() -> kernel and back, with hand-written attr offsets
// (an oracle independent of the generated ABI).
import { describeKernel, fdIsOpen } from "@ebpf/testing";
import koffi from "koffi";
import { expect, it } from "vitest";

describeKernel("smoke: hash map through koffi", () => {
  const libc = koffi.load("libc.so.6");
  const syscall = libc.func("long syscall(long nr, long cmd, void *attr, uint32 size)");
  const close = libc.func("int close(int fd)");
  const SYS_bpf = 321;

  function bpf(cmd: number, attr: Buffer): { ret: number; errno: number } {
    const ret = Number(syscall(SYS_bpf, cmd, attr, attr.length));
    return { ret, errno: ret < 0 ? koffi.errno() : 0 };
  }

  it("creates, updates, looks up, deletes and closes", () => {
    const create = Buffer.alloc(128);
    create.writeUInt32LE(1, 0); // BPF_MAP_TYPE_HASH
    create.writeUInt32LE(4, 4);
    create.writeUInt32LE(8, 8);
    create.writeUInt32LE(4, 12);
    const { ret: fd, errno } = bpf(0, create);
    expect(errno).toBe(0);
    expect(fd).toBeGreaterThan(2);
    expect(fdIsOpen(fd)).toBe(true);

    const key = Buffer.alloc(4);
    const value = Buffer.alloc(8);
    const elem = Buffer.alloc(128);
    elem.writeUInt32LE(fd, 0);
    elem.writeBigUInt64LE(BigInt(koffi.address(key)), 8);
    elem.writeBigUInt64LE(BigInt(koffi.address(value)), 16);

    key.writeUInt32LE(7);
    value.writeBigUInt64LE(0x1122334455667788n);
    expect(bpf(2, elem).ret).toBe(0); // UPDATE
    value.fill(0);
    expect(bpf(1, elem).ret).toBe(0); // LOOKUP
    expect(value.readBigUInt64LE()).toBe(0x1122334455667788n);
    // DELETE takes only map_fd and key: the kernel's CHECK_ATTR refuses a non-zero value field.
    const del = Buffer.from(elem);
    del.writeBigUInt64LE(0n, 16);
    expect(bpf(3, del).ret).toBe(0);
    expect(bpf(1, elem)).toEqual({ ret: -1, errno: 2 }); // ENOENT

    // a full map refuses a fifth key with E2BIG
    for (let k = 0; k < 4; k++) {
      key.writeUInt32LE(k);
      expect(bpf(2, elem).ret).toBe(0);
    }
    key.writeUInt32LE(99);
    expect(bpf(2, elem).errno).toBe(7); // E2BIG

    expect(close(fd)).toBe(0);
    expect(fdIsOpen(fd)).toBe(false);
  });
});
