import { BtfBuilder, IntEncoding } from "@ebpf/btf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setMapKernel } from "../src/kernel.js";
import { FakeKernel } from "./fake-kernel.js";
import { ArrayMap, HashMap, PerCpuHashMap } from "./harness.js";

let k: FakeKernel;
beforeEach(() => {
  k = new FakeKernel();
  setMapKernel(k);
});
afterEach(() => setMapKernel(undefined));

interface Event {
  pid: number;
  comm: string;
  ts: bigint;
}

function btfWithEvent() {
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4);
  const u64 = b.addInt("unsigned long long", 8);
  const chr = b.addInt("char", 1, IntEncoding.Signed);
  const comm = b.addArray(chr, u32, 8);
  const ev = b.addStruct("event", 24, [
    { name: "pid", type: u32, bitOffset: 0 },
    { name: "comm", type: comm, bitOffset: 32 },
    { name: "ts", type: u64, bitOffset: 128 },
  ]);
  return { btf: b.build(), u32, ev };
}

describe("BTF-derived codecs", () => {
  it("encode and decode plain JS values for key and value", () => {
    const { btf, u32, ev } = btfWithEvent();
    using m = HashMap.create<number, Event>(
      { keySize: 4, valueSize: 24, maxEntries: 4, btfKeyTypeId: u32, btfValueTypeId: ev },
      { btf },
    );
    m.set(7, { pid: 42, comm: "bash", ts: 123n });
    expect(m.get(7)).toEqual({ pid: 42, comm: "bash", ts: 123n });
    const raw = k.fds.get(m.fd)!.hash.values().next().value!;
    expect(new DataView(raw.buffer).getUint32(0, true)).toBe(42);
    expect(Buffer.from(raw.subarray(4, 8)).toString()).toBe("bash");
  });

  it("per-CPU and array maps use the BTF value type per CPU / per element", () => {
    const { btf, u32, ev } = btfWithEvent();
    k.cpus = 2;
    using p = PerCpuHashMap.create<number, Event>(
      { keySize: 4, valueSize: 24, maxEntries: 4, btfKeyTypeId: u32, btfValueTypeId: ev },
      { btf },
    );
    const v = { pid: 1, comm: "a", ts: 1n };
    p.set(1, [v, { ...v, pid: 2 }]);
    expect(p.get(1)!.map((x) => x.pid)).toEqual([1, 2]);
    using a = ArrayMap.create<Event>(
      { valueSize: 24, maxEntries: 2, btfKeyTypeId: u32, btfValueTypeId: ev },
      { btf },
    );
    a.set(1, v);
    expect(a.get(1)).toEqual(v);
  });

  it("a BTF type whose size differs from the map's is a size error, not corruption", () => {
    const { btf, u32 } = btfWithEvent();
    expect(() =>
      HashMap.create({ keySize: 8, valueSize: 4, maxEntries: 4, btfKeyTypeId: u32 }, { btf }),
    ).toThrow(/key is 4 bytes, the map's key size is 8/);
  });

  it("without BTF the map falls back to raw bytes", () => {
    using m = HashMap.create({ keySize: 4, valueSize: 4, maxEntries: 4 });
    m.set(Uint8Array.of(1, 0, 0, 0), Uint8Array.of(9, 9, 9, 9));
    expect(m.get(Uint8Array.of(1, 0, 0, 0))).toEqual(Uint8Array.of(9, 9, 9, 9));
  });
});

describe("specs from @ebpf/elf", () => {
  it("accepts an elf MapSpec as is; type ids reach the kernel only with a BTF fd but still drive codecs", async () => {
    const { createMap } = await import("./harness.js");
    type ElfMapSpec = import("@ebpf/elf").MapSpec;
    const { btf, u32, ev } = btfWithEvent();
    const elfSpec: ElfMapSpec = {
      name: "events_by_pid",
      sectionName: ".maps",
      source: "btf",
      offset: 0,
      type: 1,
      keySize: 4,
      valueSize: 24,
      maxEntries: 8,
      flags: 0,
      numaNode: undefined,
      pinning: 0,
      mapExtra: 0n,
      keyTypeId: u32,
      valueTypeId: ev,
      definitionTypeId: undefined,
      innerMap: undefined,
      initialValues: [],
    };
    using m = createMap(elfSpec);
    const req = k.fds.get(m.fd)!.req;
    expect(req.btfKeyTypeId).toBeUndefined();
    expect(req.name).toBe("events_by_pid");
    using typed = HashMap.open<number, Event>(m, { btf });
    typed.set(1, { pid: 5, comm: "x", ts: 0n });
    expect(typed.get(1)?.pid).toBe(5);
  });
});
