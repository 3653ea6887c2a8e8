/** `perf_event` programs: run on samples of a software or hardware counter, per CPU. */
import { availableParallelism } from "node:os";
import { BpfProgType, type Fd, PerfTypeId } from "@ebpf/sys";
import { AttachError } from "../errors.js";
import { CallbackLink, type Link } from "../link.js";
import { Program } from "../program.js";
import { attachPerfEvent } from "./perf-link.js";

/** Options of {@link PerfEvent.attach}. */
export interface PerfEventAttachOptions {
  /** `"software"`, `"hardware"` or a `PerfTypeId` value. */
  type: "software" | "hardware" | number;
  /** The counter: a `PerfSwIds` / `PerfHwId` value (e.g. `PerfSwIds.CPU_CLOCK`). */
  config: number;
  /** Run the program every N events... */
  samplePeriod?: number;
  /** ...or N times a second (exactly one of the two; default period 1). */
  sampleFrequency?: number;
  /** CPUs to sample on (default: all online CPUs). */
  cpus?: readonly number[];
  /** Only count this process (default -1: every process on those CPUs). */
  pid?: number;
}

/**
 * A perf_event program, attached to one counter per CPU; the returned link groups them.
 *
 * @example
 * ```ts
 * using link = prog.attach({ type: "software", config: PerfSwIds.CPU_CLOCK, sampleFrequency: 99 });
 * ```
 */
export class PerfEvent extends Program {
  static readonly programTypes: readonly number[] = [BpfProgType.PERF_EVENT];

  /** Opens the counter on each CPU and attaches the program to each. */
  attach(options: PerfEventAttachOptions): Link {
    if (options.samplePeriod !== undefined && options.sampleFrequency !== undefined)
      throw new AttachError("give samplePeriod or sampleFrequency, not both");
    const type =
      options.type === "software"
        ? PerfTypeId.SOFTWARE
        : options.type === "hardware"
          ? PerfTypeId.HARDWARE
          : options.type;
    const cpus = options.cpus ?? Array.from({ length: availableParallelism() }, (_, i) => i);
    const freq = options.sampleFrequency !== undefined;
    const links: Link[] = [];
    try {
      for (const cpu of cpus) {
        const event: Fd = this.sys.perfEventOpen({
          attr: {
            type,
            config: options.config,
            sample_period: freq ? options.sampleFrequency : (options.samplePeriod ?? 1),
            freq,
          },
          pid: options.pid ?? -1,
          cpu,
        });
        links.push(attachPerfEvent(this.sys, this.fd, event, `perf_event cpu ${cpu} "${this.name}"`));
      }
    } catch (e) {
      for (const l of links) l.detach();
      throw e;
    }
    return this.adopt(
      new CallbackLink(
        `perf_event type ${type} config ${options.config} on cpus ${cpus.join(",")} "${this.name}"`,
        () => {
          for (const l of links) l.detach();
        },
      ),
    );
  }
}
