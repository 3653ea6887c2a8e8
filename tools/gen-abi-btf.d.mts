// Types for tools/gen-abi-btf.mjs.
import type { NormalisedType } from "./gen-abi.mjs";
export declare function readMiniBtf(bytes: Uint8Array): NormalisedType[];
