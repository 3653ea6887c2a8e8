// The BTF local-storage maps need (BTF key and value types), built in the test: `int` keys and a
// `struct pair { u32 a; u32 b; }` value, as parsed BTF for codecs and as bytes for BPF_BTF_LOAD.
import { type Btf, BtfBuilder } from "@ebpf/btf";

/** The storage test BTF: `btf` for codecs, `bytes` to load, and the ids of `int` and `struct pair`. */
export interface StorageBtf {
  btf: Btf;
  bytes: Uint8Array;
  intId: number;
  pairId: number;
}

export function storageBtf(): StorageBtf {
  const b = new BtfBuilder();
  const intId = b.addInt("int", 4, 1);
  const u32 = b.addInt("unsigned int", 4);
  const pairId = b.addStruct("pair", 8, [
    { name: "a", type: u32, bitOffset: 0 },
    { name: "b", type: u32, bitOffset: 32 },
  ]);
  return { btf: b.build(), bytes: b.marshal(), intId, pairId };
}
