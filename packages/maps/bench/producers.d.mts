import type { Fd } from "@ebpf/sys";
/** The `cookie` half of every produced record. */
export declare const COOKIE: bigint;
/** Loads an XDP program that emits one `{ u64 seq; u64 cookie }` record per run into `eventsFd`. */
export declare function loadProducer(kind: "ringbuf" | "perf", eventsFd: number, counterFd: number): Fd;
/** Runs the producer `repeat` times with BPF_PROG_TEST_RUN. */
export declare function produce(prog: Fd, repeat: number): void;
/** Loads an XDP program that drains `userRingFd` and stores the drained count in `resultFd[0]` (u64). */
export declare function loadUserRingDrainer(userRingFd: number, resultFd: number): Fd;
