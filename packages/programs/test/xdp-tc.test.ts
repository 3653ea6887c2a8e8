import { exit, mov64Imm } from "@ebpf/relocate";
import { BpfAttachType, BpfProgType, progQuery, XdpAction, xdpQuery } from "@ebpf/sys";
import { describeKernel, expectNotSupported, kernelAtLeast } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enableStats, FdLink, FlowDissector, listLinks, SchedClassifier, Xdp } from "../src/index.js";
import { createVethPair, netnsExists, qdiscs, type VethPair } from "./netns.js";

// TCX_NEXT: let the next program of the chain run too (TCX_PASS = 0 would end the chain).
const TCX_NEXT = -1;

const xdpSpec = (name: string) => ({
  name,
  type: BpfProgType.XDP,
  license: "GPL",
  instructions: [mov64Imm(0, XdpAction.PASS), exit()],
});
const tcSpec = (name: string) => ({
  name,
  type: BpfProgType.SCHED_CLS,
  license: "GPL",
  instructions: [mov64Imm(0, TCX_NEXT), exit()],
});

describeKernel("XDP and TC on a veth pair in a network namespace", () => {
  let veth: VethPair;
  beforeAll(() => {
    veth = createVethPair();
  });
  afterAll(() => {
    veth?.[Symbol.dispose]();
    if (veth) expect(netnsExists(veth.ns)).toBe(false);
  });

  it("XDP link: fires on traffic from the namespace, detaches on close", () => {
    using stats = enableStats();
    const prog = Xdp.load(xdpSpec("xdp_count"));
    try {
      const link = prog.attach(veth.host, { mode: "skb" });
      expect(link).toBeInstanceOf(FdLink);
      expect((link as FdLink).info().typeName).toBe("xdp");
      expect(xdpQuery(veth.hostIfindex).progId).toBe(prog.info().id);
      veth.sendFromPeer(5);
      expect(prog.info().runCnt).toBeGreaterThanOrEqual(5n);
    } finally {
      prog.close();
    }
    expect(xdpQuery(veth.hostIfindex).progId).toBe(0);
    void stats;
  });

  it("XDP link update swaps the program atomically", () => {
    using a = Xdp.load(xdpSpec("xdp_a"));
    using b = Xdp.load(xdpSpec("xdp_b"));
    const link = a.attach(veth.hostIfindex) as FdLink;
    link.update(b, a);
    expect(link.info().progId).toBe(b.info().id);
    expect(xdpQuery(veth.hostIfindex).progId).toBe(b.info().id);
    link.detach();
    expect(xdpQuery(veth.hostIfindex).progId).toBe(0);
  });

  it("XDP netlink fallback attaches, replaces and detaches", () => {
    using stats = enableStats();
    using a = Xdp.load(xdpSpec("xdp_nl_a"));
    using b = Xdp.load(xdpSpec("xdp_nl_b"));
    const first = a.attach(veth.host, { netlink: true, mode: "skb" });
    expect(first.description).toContain("netlink");
    expect(xdpQuery(veth.hostIfindex).progId).toBe(a.info().id);
    veth.sendFromPeer(3);
    expect(a.info().runCnt).toBeGreaterThanOrEqual(3n);
    const second = b.attach(veth.host, { mode: "skb", replace: a });
    expect(xdpQuery(veth.hostIfindex).progId).toBe(b.info().id);
    second.detach();
    first.close(); // already replaced: detaching again must not throw
    expect(xdpQuery(veth.hostIfindex).progId).toBe(0);
    void stats;
  });

  it("tcx links keep before/after order and fire", () => {
    using stats = enableStats();
    using a = SchedClassifier.load(tcSpec("tc_a"));
    using b = SchedClassifier.load(tcSpec("tc_b"));
    using c = SchedClassifier.load(tcSpec("tc_c"));
    if (!kernelAtLeast("6.6")) {
      // Without tcx the attach falls back to a netlink filter, which has no ordering.
      const fallback = a.attach(veth.host, { direction: "ingress" });
      expect(fallback.description).toContain("netlink filter");
      expectNotSupported(() => b.attach(veth.host, { anchor: { before: a } }), "6.6");
      expect(b.links).toHaveLength(0);
      veth.sendFromPeer(2);
      expect(a.info().runCnt).toBeGreaterThanOrEqual(2n);
      fallback.detach();
      return;
    }
    const la = a.attach(veth.host, { direction: "ingress" }) as FdLink;
    b.attach(veth.host, { anchor: { before: la } });
    c.attach(veth.host, { anchor: { after: a } });
    const q = progQuery({ targetIfindex: veth.hostIfindex, attachType: BpfAttachType.TCX_INGRESS });
    expect(q.progIds).toEqual([b.info().id, a.info().id, c.info().id]);
    veth.sendFromPeer(4);
    for (const p of [a, b, c]) expect(p.info().runCnt).toBeGreaterThanOrEqual(4n);
    expect(listLinks().filter((l) => l.typeName === "tcx" && l.progId === a.info().id)).toHaveLength(1);
    void stats;
  });

  it("netlink clsact filter fires and removes the qdisc it created", () => {
    using stats = enableStats();
    using prog = SchedClassifier.load(tcSpec("tc_nl"));
    expect(qdiscs(veth.host)).not.toContain("clsact");
    const link = prog.attach(veth.host, { netlink: true, direction: "ingress" });
    expect(qdiscs(veth.host)).toContain("clsact");
    veth.sendFromPeer(3);
    expect(prog.info().runCnt).toBeGreaterThanOrEqual(3n);
    link.detach();
    expect(qdiscs(veth.host)).not.toContain("clsact");
    void stats;
  });
});

describeKernel("XDP native mode and netns programs", () => {
  let veth: VethPair;
  beforeAll(() => {
    veth = createVethPair();
  });
  afterAll(() => veth?.[Symbol.dispose]());

  it("XDP in driver mode on veth fires", () => {
    using stats = enableStats();
    using prog = Xdp.load(xdpSpec("xdp_drv"));
    using link = prog.attach(veth.host, { mode: "drv" });
    expect(xdpQuery(veth.hostIfindex).attached).toBe(1); // XDP_ATTACHED_DRV
    veth.sendFromPeer(2);
    expect(prog.info().runCnt).toBeGreaterThanOrEqual(2n);
    void stats;
    void link;
  });

  it("netlink attachments of a deleted interface close without error", () => {
    const gone = createVethPair();
    const xdp = Xdp.load(xdpSpec("xdp_gone"));
    const tc = SchedClassifier.load(tcSpec("tc_gone"));
    try {
      xdp.attach(gone.host, { netlink: true });
      tc.attach(gone.host, { netlink: true });
    } finally {
      gone[Symbol.dispose]();
    }
    expect(() => xdp.close()).not.toThrow();
    expect(() => tc.close()).not.toThrow();
  });

  it("FlowDissector links to a network namespace given by path", () => {
    using prog = FlowDissector.load({
      name: "fd_ok",
      type: BpfProgType.FLOW_DISSECTOR,
      license: "GPL",
      instructions: [mov64Imm(0, 0), exit()],
    });
    const link = prog.attach(`/run/netns/${veth.ns}`) as FdLink;
    expect(link.info().typeName).toBe("netns");
    link.detach();
    expect(prog.links).toHaveLength(0);
  });
});
