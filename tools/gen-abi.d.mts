// Types for tools/gen-abi.mjs (used by packages/sys/test/abi.test.ts).
export interface NormalisedType {
  kind: string;
  name: string;
  size?: number;
  type?: number;
  nelems?: number;
  members?: { name: string; type: number; bitOffset: number; bitSize: number }[];
  values?: { name: string; value: number | bigint }[];
}
export declare const DEFAULT_OUT: string;
export declare function fromEbpfBtf(btf: { count: number; typeById(id: number): unknown }): NormalisedType[];
export declare function generateAbi(
  types: NormalisedType[],
  options?: { kernelRelease?: string; source?: string; lenient?: boolean },
): string;
