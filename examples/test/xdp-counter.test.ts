// The XDP example on a veth pair in a namespace the test creates: known traffic in, exact counts out.
import { describeKernel } from "@ebpf/testing";
import { expect, it } from "vitest";
import { createVethLab, linkExists, netnsExists } from "../src/netns.js";
import { programsStillLoaded } from "../src/process-tracer.js";
import { NOT_IP, ProtocolCounter, sendTraffic, UDP_PAYLOAD } from "../src/xdp-counter.js";

describeKernel("example: XDP per-protocol counter", () => {
  it("counts UDP, TCP, ICMP and ARP arriving on the veth; detaches and deletes its lab", async () => {
    const lab = createVethLab();
    let programId = 0;
    try {
      const counter = ProtocolCounter.attach(lab.host);
      programId = counter.programId;
      try {
        expect(counter.read()).toEqual([]);
        await sendTraffic(lab, { udp: 25, tcp: 2, icmp: 3 });
        const counts = new Map(counter.read().map((c) => [c.protocol, c]));
        // Nothing else in a fresh namespace speaks UDP: exactly the datagrams sent, each
        // 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + payload bytes.
        expect(counts.get(17)?.packets).toBe(25n);
        expect(counts.get(17)?.bytes).toBe(25n * BigInt(42 + UDP_PAYLOAD.length));
        // Each connection: SYN, ACK, data, FIN, ACK at least.
        expect(counts.get(6)?.packets).toBeGreaterThanOrEqual(2n * 4n);
        // Port unreachables (the kernel may rate-limit some of them).
        expect(counts.get(1)?.packets).toBeGreaterThanOrEqual(1n);
        expect(counts.get(1)?.packets).toBeLessThanOrEqual(3n);
        // The first exchange resolves addresses with ARP.
        expect(counts.get(NOT_IP)?.packets).toBeGreaterThanOrEqual(1n);
      } finally {
        counter.close();
      }
      // Detached: the program is gone from the kernel.
      expect(await programsStillLoaded([programId])).toEqual([]);
    } finally {
      lab[Symbol.dispose]();
    }
    expect(netnsExists(lab.ns)).toBe(false);
    expect(linkExists(lab.host)).toBe(false);
  });
});
