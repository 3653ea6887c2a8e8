// The seed example of the façade, run as written, against the real root cgroup: a cgroup_skb program
// that drops UDP packets to one port. Proof that it works: the packet arrives before, not during, and
// again after; the program's own counters agree.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { closeSync, openSync } from "node:fs";
import { describeKernel } from "@ebpf/testing";
import { ArrayMap, CgroupSkb, Ebpf } from "ebpf";
import { expect, it } from "vitest";
import { exampleObject } from "../src/objects.js";

const objectFile = exampleObject("cgroup_firewall");

async function delivered(receiver: Socket, port: number): Promise<boolean> {
  const sender = createSocket("udp4");
  try {
    const got = once(receiver, "message").then(() => true);
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 300));
    sender.send("ping", port, "127.0.0.1");
    return await Promise.race([got, timeout]);
  } finally {
    sender.close();
  }
}

describeKernel("seed example: cgroup_skb ingress filter on the root cgroup", () => {
  it("runs as written and drops exactly what it should", async () => {
    const receiver = createSocket("udp4");
    receiver.bind(0, "127.0.0.1");
    await once(receiver, "listening");
    const port = receiver.address().port;
    let cgroup: number | undefined;
    try {
      expect(await delivered(receiver, port)).toBe(true);

      // --- the seed example (with the port to block set through .rodata) ---
      const bpf = Ebpf.loadFile(objectFile, { globals: { blocked_port: port } }); // load the BPF code
      const ingress = bpf.program("ingress_filter", CgroupSkb); // the `ingress_filter` program in bpf.o
      ingress.load(); // load it into the kernel
      cgroup = openSync("/sys/fs/cgroup/unified", "r"); // attach to the root cgroup:
      ingress.attach(cgroup, "ingress"); // called for every incoming packet
      // ---

      try {
        expect(await delivered(receiver, port)).toBe(false);
        const packets = bpf.map("packets", ArrayMap<bigint>); // [passed, dropped], decoded through BTF
        expect(packets.get(1)).toBeGreaterThanOrEqual(1n);
      } finally {
        bpf.close(); // detaches the link with the program
      }
      expect(await delivered(receiver, port)).toBe(true);
    } finally {
      if (cgroup !== undefined) closeSync(cgroup);
      receiver.close();
    }
  });
});
