// Minimal, dependency-free reader of the parts of kernel BTF that tools/gen-abi.mjs needs (ints, pointers,
// arrays, structs, unions, enums, typedefs and modifiers). It exists as an independent oracle: the ABI test
// checks that @ebpf/btf and this reader agree on every offset the generated ABI file contains.
// Not a general BTF parser — use @ebpf/btf for that.

const KINDS = [
  "unknown",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

/**
 * Reads raw BTF into an array of normalised types (index = type id; id 0 is void):
 * `{ kind, name, size?, type?, nelems?, members?: {name, type, bitOffset, bitSize}[], values?: {name, value}[] }`.
 * @param {Uint8Array} bytes
 */
export function readMiniBtf(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(0, true);
  const le = magic === 0xeb9f;
  if (!le && dv.getUint16(0, false) !== 0xeb9f) throw new Error(`not BTF: magic 0x${magic.toString(16)}`);
  const u32 = (o) => dv.getUint32(o, le);
  const i32 = (o) => dv.getInt32(o, le);
  const hdrLen = u32(4);
  const typeStart = hdrLen + u32(8);
  const typeEnd = typeStart + u32(12);
  const strStart = hdrLen + u32(16);
  const decoder = new TextDecoder();
  const str = (off) => {
    let end = strStart + off;
    while (bytes[end] !== 0) end++;
    return decoder.decode(bytes.subarray(strStart + off, end));
  };
  const types = [{ kind: "void", name: "" }];
  let o = typeStart;
  while (o < typeEnd) {
    const nameOff = u32(o);
    const info = u32(o + 4);
    const sizeOrType = u32(o + 8);
    const vlen = info & 0xffff;
    const kind = KINDS[(info >>> 24) & 0x1f] ?? "unknown";
    const kindFlag = info >>> 31 === 1;
    const t = { kind, name: str(nameOff) };
    o += 12;
    switch (kind) {
      case "int":
        t.size = sizeOrType;
        t.bits = u32(o) & 0xff;
        o += 4;
        break;
      case "array":
        t.type = u32(o);
        t.nelems = u32(o + 8);
        o += 12;
        break;
      case "struct":
      case "union":
        t.size = sizeOrType;
        t.members = [];
        for (let i = 0; i < vlen; i++, o += 12) {
          const off = u32(o + 8);
          t.members.push({
            name: str(u32(o)),
            type: u32(o + 4),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        break;
      case "enum":
        t.size = sizeOrType;
        t.values = [];
        for (let i = 0; i < vlen; i++, o += 8) {
          t.values.push({ name: str(u32(o)), value: kindFlag ? i32(o + 4) : u32(o + 4) });
        }
        break;
      case "enum64":
        t.size = sizeOrType;
        t.values = [];
        for (let i = 0; i < vlen; i++, o += 12) {
          const v = (BigInt(u32(o + 8)) << 32n) | BigInt(u32(o + 4));
          t.values.push({ name: str(u32(o)), value: kindFlag ? BigInt.asIntN(64, v) : v });
        }
        break;
      case "func_proto":
        t.type = sizeOrType;
        o += 8 * vlen;
        break;
      case "var":
        t.type = sizeOrType;
        o += 4;
        break;
      case "datasec":
        t.size = sizeOrType;
        o += 12 * vlen;
        break;
      case "decl_tag":
        t.type = sizeOrType;
        o += 4;
        break;
      case "float":
        t.size = sizeOrType;
        break;
      default:
        t.type = sizeOrType;
    }
    types.push(t);
  }
  return types;
}
