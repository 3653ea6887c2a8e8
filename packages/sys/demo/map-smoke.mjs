// Foundation demo: the path from JavaScript to the kernel through koffi, shown step by step.
// Creates a BPF hash map with bpf(BPF_MAP_CREATE), updates, looks up, deletes, and closes it.
// (Hand-written attr offsets on purpose: this script is an independent check of the generated ABI.)
import { existsSync } from "node:fs";
import koffi from "koffi";

const libc = koffi.load("libc.so.6");
const syscall = libc.func("long syscall(long nr, long cmd, void *attr, uint32 size)");
const close = libc.func("int close(int fd)");
const SYS_bpf = 321;
const [MAP_CREATE, LOOKUP, UPDATE, DELETE] = [0, 1, 2, 3];
const BPF_MAP_TYPE_HASH = 1;

function bpf(cmd, attr) {
  const r = syscall(SYS_bpf, cmd, attr, attr.length);
  if (r < 0) throw new Error(`bpf(${cmd}) failed: errno ${koffi.errno()}`);
  return Number(r);
}

const attr = Buffer.alloc(128);
attr.writeUInt32LE(BPF_MAP_TYPE_HASH, 0);
attr.writeUInt32LE(4, 4); // key size
attr.writeUInt32LE(8, 8); // value size
attr.writeUInt32LE(16, 12); // max entries
const fd = bpf(MAP_CREATE, attr);
console.log(`created hash map u32 -> u64, fd ${fd}`);

const key = Buffer.alloc(4);
const value = Buffer.alloc(8);
function elemAttr(withValue) {
  const a = Buffer.alloc(128);
  a.writeUInt32LE(fd, 0);
  a.writeBigUInt64LE(koffi.address(key), 8);
  if (withValue) a.writeBigUInt64LE(koffi.address(value), 16);
  return a;
}
for (let pid = 1; pid <= 3; pid++) {
  key.writeUInt32LE(pid);
  value.writeBigUInt64LE(BigInt(pid * 1000));
  bpf(UPDATE, elemAttr(true));
  console.log(`update  key ${pid} = ${pid * 1000}`);
}
key.writeUInt32LE(2);
value.fill(0);
bpf(LOOKUP, elemAttr(true));
console.log(`lookup  key 2 -> ${value.readBigUInt64LE()}`);
bpf(DELETE, elemAttr(false));
console.log("delete  key 2");
try {
  bpf(LOOKUP, elemAttr(true));
  console.log("lookup  key 2 -> still there (unexpected)");
  process.exitCode = 1;
} catch {
  console.log("lookup  key 2 -> ENOENT, as expected");
}
close(fd);
console.log(
  `closed fd ${fd}: ${existsSync(`/proc/self/fd/${fd}`) ? "STILL OPEN" : "gone from /proc/self/fd"}`,
);
