import { createSocket, type Socket } from "node:dgram";
import { exit, mov64Imm } from "@ebpf/relocate";
import {
  BpfAttachType,
  BpfFlags,
  BpfMapType,
  BpfProgType,
  mapCreate,
  progDetach,
  progQuery,
} from "@ebpf/sys";
import { describeKernel, expectNotSupported, kernelAtLeast } from "@ebpf/testing";
import { expect, it } from "vitest";
import {
  enableStats,
  loadProgram,
  Netfilter,
  SkLookup,
  SkMsg,
  SkReuseport,
  SkSkb,
  SocketFilter,
  Syscall,
  Xdp,
} from "../src/index.js";

const prog = (name: string, type: number, ret: number, extra: object = {}) => ({
  name,
  type,
  license: "GPL",
  instructions: [mov64Imm(0, ret), exit()],
  ...extra,
});

const fdOf = (s: Socket) => (s as unknown as { _handle: { fd: number } })._handle.fd;

async function bound(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return s;
}

/** Sends `n` datagrams to `to` and counts how many arrive within 200 ms. */
async function deliver(to: Socket, n: number): Promise<number> {
  let got = 0;
  const onMsg = () => got++;
  to.on("message", onMsg);
  const from = createSocket("udp4");
  for (let i = 0; i < n; i++)
    await new Promise<void>((r) => from.send("hello", to.address().port, "127.0.0.1", () => r()));
  await new Promise((r) => setTimeout(r, 200));
  from.close();
  to.off("message", onMsg);
  return got;
}

describeKernel("socket and network-namespace programs", () => {
  it("SocketFilter drops what it returns 0 for, until detached", async () => {
    using stats = enableStats();
    using filter = SocketFilter.load(prog("sf_drop", BpfProgType.SOCKET_FILTER, 0));
    const sock = await bound();
    try {
      const link = filter.attach(fdOf(sock));
      expect(await deliver(sock, 3)).toBe(0);
      expect(filter.info().runCnt).toBeGreaterThanOrEqual(3n);
      link.detach();
      expect(await deliver(sock, 2)).toBe(2);
    } finally {
      sock.close();
    }
    void stats;
  });

  it("SkReuseport reaches SO_ATTACH_REUSEPORT_EBPF (refused for a socket without SO_REUSEPORT)", async () => {
    // Node 20's dgram cannot set SO_REUSEPORT, so the kernel refuses the group attach: the error names it.
    using p = SkReuseport.load(prog("reuse_pass", BpfProgType.SK_REUSEPORT, 1));
    const s = await bound();
    try {
      expect(() => p.attach(fdOf(s))).toThrow(/setsockopt\(SO_ATTACH_REUSEPORT_EBPF\) failed: EINVAL/);
      expect(p.links).toHaveLength(0);
    } finally {
      s.close();
    }
  });

  it("Netfilter hook fires on local output", async () => {
    using stats = enableStats();
    const spec = prog("nf_accept", BpfProgType.NETFILTER, 1, { expectedAttachType: BpfAttachType.NETFILTER });
    if (!kernelAtLeast("6.4")) {
      expect(expectNotSupported(() => Netfilter.load(spec), "6.4").feature).toBe("program type netfilter");
      return;
    }
    using nf = Netfilter.load(spec);
    const NFPROTO_IPV4 = 2;
    const NF_INET_LOCAL_OUT = 3;
    using link = nf.attach({ protocolFamily: NFPROTO_IPV4, hook: NF_INET_LOCAL_OUT });
    const sock = await bound();
    try {
      expect(await deliver(sock, 2)).toBe(2);
    } finally {
      sock.close();
    }
    expect(nf.info().runCnt).toBeGreaterThanOrEqual(2n);
    void stats;
    void link;
  });

  it("SkLookup attaches to this network namespace", () => {
    using p = SkLookup.load(
      prog("sklookup_pass", BpfProgType.SK_LOOKUP, 1, { expectedAttachType: BpfAttachType.SK_LOOKUP }),
    );
    using link = p.attach();
    expect(link.description).toContain("sk_lookup");
  });

  it("Syscall programs run through testRun with their context", () => {
    const spec = prog("sys_ret", BpfProgType.SYSCALL, 42, { flags: BpfFlags.BPF_F_SLEEPABLE });
    if (!kernelAtLeast("5.14")) {
      expect(expectNotSupported(() => Syscall.load(spec), "5.14").feature).toBe("program type syscall");
      return;
    }
    using p = Syscall.load(spec);
    const r = p.testRun({ ctx: new Uint8Array(16).fill(3) });
    expect(r.retval).toBe(42);
    expect(Array.from(r.ctxOut ?? [])).toEqual(new Array(16).fill(3));
  });

  it("loadProgram picks the typed class", () => {
    using p = loadProgram(prog("any_xdp", BpfProgType.XDP, 2));
    expect(p).toBeInstanceOf(Xdp);
  });
});

describeKernel("sockmap programs", () => {
  it("SkMsg and SkSkb attach to a sockmap (PROG_ATTACH) and detach", () => {
    using map = mapCreate({ type: BpfMapType.SOCKMAP, keySize: 4, valueSize: 4, maxEntries: 4 });
    using msg = SkMsg.load(prog("skmsg_pass", BpfProgType.SK_MSG, 1));
    using verdict = SkSkb.load(prog("skskb_pass", BpfProgType.SK_SKB, 1));
    const query = (at: number) => progQuery({ targetFd: map, attachType: at }).progIds;
    const l1 = msg.attach(map);
    const l2 = verdict.attach(map, "stream_verdict");
    // BPF_PROG_QUERY on a sockmap is 5.18: before, the library says so instead of a bare EINVAL.
    const canQuery = kernelAtLeast("5.18");
    if (canQuery) {
      expect(query(BpfAttachType.SK_MSG_VERDICT)).toEqual([msg.info().id]);
      expect(query(BpfAttachType.SK_SKB_STREAM_VERDICT)).toEqual([verdict.info().id]);
    } else {
      expectNotSupported(() => query(BpfAttachType.SK_MSG_VERDICT), "5.18");
    }
    l1.detach();
    l2.detach();
    if (canQuery) {
      expect(query(BpfAttachType.SK_MSG_VERDICT)).toEqual([]);
      expect(query(BpfAttachType.SK_SKB_STREAM_VERDICT)).toEqual([]);
    }
    // Detached on every kernel: detaching the same program again finds nothing there.
    expect(() =>
      progDetach({ targetFd: map, progFd: msg.fd, attachType: BpfAttachType.SK_MSG_VERDICT }),
    ).toThrow(/ENOENT/);
  });
});
