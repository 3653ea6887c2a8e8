// The TC egress example on a veth pair in a namespace the test creates: a UDP datagram to the blocked port
// arrives before the filter, not while it is attached (while another port still works), and again after.
import { describeKernel } from "@ebpf/testing";
import { listLinks } from "ebpf";
import { expect, it } from "vitest";
import { createVethLab, linkExists, netnsExists } from "../src/netns.js";
import { programsStillLoaded } from "../src/process-tracer.js";
import { PortFilter, processAlive, startReceiver } from "../src/tc-port-filter.js";

describeKernel("example: TC egress port filter", () => {
  it("drops UDP to the port only while attached; leaves no link, process, netns or veth", async () => {
    const lab = createVethLab();
    let receiverPid = 0;
    let programId = 0;
    try {
      using receiver = await startReceiver(lab);
      receiverPid = receiver.pid;
      expect(processAlive(receiverPid)).toBe(true);
      expect(await receiver.probe("before")).toBe(true);

      const filter = PortFilter.attach(lab.host, receiver.port);
      programId = filter.programId;
      try {
        const link = listLinks().find((l) => l.progId === programId);
        expect(link?.typeName).toBe("tcx");
        expect(await receiver.probe("during-1")).toBe(false);
        expect(await receiver.probe("control", { port: receiver.controlPort })).toBe(true);
        expect(await receiver.probe("during-2")).toBe(false);
        const verdicts = filter.verdicts();
        expect(verdicts.dropped).toBe(2n);
        expect(verdicts.passed).toBeGreaterThanOrEqual(1n);
      } finally {
        filter.close();
      }
      expect(listLinks().some((l) => l.progId === programId)).toBe(false);
      expect(await receiver.probe("after")).toBe(true);
    } finally {
      lab[Symbol.dispose]();
    }
    expect(await programsStillLoaded([programId])).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(processAlive(receiverPid)).toBe(false);
    expect(netnsExists(lab.ns)).toBe(false);
    expect(linkExists(lab.host)).toBe(false);
  });
});
