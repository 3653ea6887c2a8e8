// Fault injection: every native call of each scenario is made to fail in turn, with each errno of the
// issue; the scenario must throw a typed error (or recover) and leave no fd or mapping behind.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  unlinkSync,
} from "node:fs";
import { describeKernel, openFds } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BpfAttachType,
  BpfMapType,
  BpfProgType,
  EbpfError,
  Errno,
  eventfd,
  getFdById,
  haveMapType,
  LinuxDefines,
  linkCreate,
  liveFdCount,
  MapElemOps,
  mapCreate,
  mapInfo,
  mapLookupBatch,
  mapUpdateBatch,
  mmap,
  NetlinkSocket,
  objGet,
  objPin,
  PerfEventSampleFormat,
  PerfSwIds,
  PerfTypeId,
  Poller,
  pageSize,
  perfEventEnable,
  perfEventOpen,
  progLoad,
  progTestRun,
  resetProbeCache,
  setFaultInjector,
  xdpQuery,
} from "../src/index.js";
import { returnImm } from "./asm.js";
import { cgroup2Root, needsCgroup2 } from "./cgroup.js";

const ERRNOS = ["EPERM", "EINVAL", "ENOMEM", "E2BIG", "EAGAIN"] as const;

/**
 * This process's BPF, perf and netlink fds by number → what they are, plus how many Fd objects are open.
 * epoll and eventfd fds are counted through the Fd objects only: Node and koffi open and close their own
 * (libuv loops) at times of their choosing.
 */
function kernelFds(): string {
  const netlink = new Set(
    readFileSync("/proc/net/netlink", "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/).at(-1)),
  );
  const out: string[] = [];
  for (const fd of [...openFds()].sort((a, b) => a - b)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const sock = /^socket:\[(\d+)\]$/.exec(target);
    const ours = target.startsWith("anon_inode:") && !/\[(eventpoll|eventfd)\]/.test(target);
    if (ours || (sock && netlink.has(sock[1]))) out.push(`${fd}=${target}`);
  }
  return `${liveFdCount()} Fd objects open; ${out.join(" ")}`;
}

/**
 * `read()` once it stops changing (or equals `target`), polling for up to 2 s: closes that complete
 * asynchronously (the poller's, after its threadpool wait returns) get time to land on a loaded machine.
 */
async function settled(read: () => string, target?: string): Promise<string> {
  let last = read();
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const now = read();
    if (target !== undefined ? now === target : now === last) return now;
    last = now;
  }
  return last;
}

function mappingsOfBpf(): number {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => /anon_inode:(bpf|\[perf_event\])/.test(l)).length;
}

describeKernel(
  "fault injection",
  () => {
    const cgroupPath = `${cgroup2Root()}/sys_fault_${process.pid}`;
    const pin = `/sys/fs/bpf/sys_fault_${process.pid}`;
    let cgroupFd = -1;
    beforeAll(() => {
      mkdirSync(cgroupPath);
      cgroupFd = openSync(cgroupPath, "r");
      Poller.shared(); // the shared poller's fds are process-wide state, created before the baseline
    });
    afterAll(() => {
      setFaultInjector(undefined);
      closeSync(cgroupFd);
      rmdirSync(cgroupPath);
    });

    const scenarios: Record<string, () => void | Promise<void>> = {
      "map create + elem ops + batch": () => {
        using m = mapCreate({
          type: BpfMapType.HASH,
          keySize: 4,
          valueSize: 8,
          maxEntries: 8,
          name: "fault",
        });
        const ops = new MapElemOps(m, 4, 8);
        ops.update();
        ops.lookup();
        ops.getNextKey(true);
        const keys = new Uint8Array(8 * 4);
        const values = new Uint8Array(8 * 8);
        mapUpdateBatch(m, { keys: keys.subarray(0, 4), values: values.subarray(0, 8), count: 1 });
        mapLookupBatch(m, { keys, values, count: 8, outBatch: new Uint8Array(4) });
        mapInfo(m);
      },
      "prog load + test run": () => {
        using p = progLoad({
          type: BpfProgType.XDP,
          insns: returnImm(2),
          license: "GPL",
          logLevel: 1,
          logBuf: new Uint8Array(1024),
        });
        progTestRun({ progFd: p, dataIn: new Uint8Array(64) });
      },
      "pin + get + by id": () => {
        using m = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
        try {
          objPin(m, pin);
          using again = objGet(pin);
          using _byId = getFdById("map", mapInfo(again).id);
        } finally {
          if (existsSync(pin)) unlinkSync(pin);
        }
      },
      "cgroup link": () => {
        using p = progLoad({ type: BpfProgType.CGROUP_SKB, insns: returnImm(1), license: "GPL" });
        using _l = linkCreate({
          progFd: p,
          targetFd: cgroupFd,
          attachType: BpfAttachType.CGROUP_INET_INGRESS,
        });
      },
      "perf event + mmap": () => {
        using ev = perfEventOpen({
          attr: {
            type: PerfTypeId.SOFTWARE,
            config: PerfSwIds.BPF_OUTPUT,
            sample_type: PerfEventSampleFormat.RAW,
            sample_period: 1,
          },
          cpu: 0,
        });
        using _ring = mmap(ev, pageSize() * 2);
        perfEventEnable(ev);
      },
      "ring buffer mmap": () => {
        using rb = mapCreate({ type: BpfMapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: pageSize() });
        using _cons = mmap(rb, pageSize(), { prot: LinuxDefines.PROT_READ | LinuxDefines.PROT_WRITE });
        using _prod = mmap(rb, pageSize() * 3, { prot: LinuxDefines.PROT_READ, offset: pageSize() });
      },
      "poller + eventfd": () => {
        const poller = new Poller({ onError: () => {} });
        try {
          using ev = eventfd();
          poller.register(ev, () => {}).unregister();
        } finally {
          void poller.close();
        }
      },
      "netlink query": () => {
        using _nl = new NetlinkSocket();
        xdpQuery(1);
      },
      "probe map-in-map and storage": () => {
        resetProbeCache();
        haveMapType(BpfMapType.ARRAY_OF_MAPS);
        haveMapType(BpfMapType.TASK_STORAGE);
      },
      dup: () => {
        using m = mapCreate({ type: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
        using _d = m.dup();
      },
    };

    for (const [name, run] of Object.entries(scenarios)) {
      it(`${name}: each call fails with ${ERRNOS.join("/")}, typed errors, no leaks`, async () => {
        // count the native calls of a clean run
        let calls = 0;
        setFaultInjector(() => {
          calls++;
          return 0;
        });
        await run();
        setFaultInjector(undefined);
        await new Promise((r) => setTimeout(r, 5));
        expect(calls).toBeGreaterThan(0);
        const fdsBefore = await settled(kernelFds);
        const mapsBefore = mappingsOfBpf();
        let failures = 0;
        for (const errnoName of ERRNOS) {
          for (let k = 1; k <= calls; k++) {
            let n = 0;
            setFaultInjector(() => (++n === k ? Errno[errnoName] : 0));
            try {
              await run();
            } catch (e) {
              failures++;
              expect(e, `${name}, call ${k} failing with ${errnoName}`).toBeInstanceOf(EbpfError);
              expect((e as { errno?: number }).errno ?? Errno[errnoName]).toBe(Errno[errnoName]);
            } finally {
              setFaultInjector(undefined);
            }
            expect(
              await settled(kernelFds, fdsBefore),
              `${name}: fds after call ${k} failed with ${errnoName}`,
            ).toBe(fdsBefore);
            expect(mappingsOfBpf(), `${name}: mappings after call ${k} failed with ${errnoName}`).toBe(
              mapsBefore,
            );
          }
        }
        expect(failures).toBeGreaterThan(0);
        resetProbeCache();
      });
    }
  },
  needsCgroup2,
);
