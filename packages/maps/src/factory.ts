/**
 * Shared plumbing of the typed classes' static `create` / `open` / `fromPin`: build the handle, wrap
 * it, and close the handle again if wrapping fails (wrong type, wrong codec size).
 */
import { MapCore } from "./core.js";
import { MapTypeError } from "./errors.js";
import type { BpfMap } from "./map.js";
import { type CreateMapOptions, createMapCore, mapCoreById, mapCoreFromFd, pinnedMapCore } from "./open.js";
import { type MapSpec, mapTypeName } from "./spec.js";

/** Where to find an existing map: a pin path, a kernel id, an fd (duplicated), or another map object. */
export type MapSource =
  | { pin: string; readOnly?: boolean }
  | { id: number }
  | { fd: number }
  | BpfMap<unknown, unknown>;

/** A spec for a typed class: `type` may be omitted (the class's own type is used). */
export type TypedMapSpec = Omit<MapSpec, "type"> & { type?: MapSpec["type"] };

/** A spec for an array-like class: the key size defaults to 4 (a u32 index). */
export type IndexedMapSpec = Omit<TypedMapSpec, "keySize"> & { keySize?: number };

/** The handle for `source`, and whether this call created it (and so must close it on failure). */
function resolve(source: MapSource | MapCore): { core: MapCore; owned: boolean } {
  if (source instanceof MapCore) return { core: source, owned: false };
  if ("core" in source && source.core instanceof MapCore) return { core: source.core, owned: false };
  if ("pin" in source && typeof source.pin === "string") {
    const src = source as { pin: string; readOnly?: boolean };
    return { core: pinnedMapCore(src.pin, { readOnly: src.readOnly }), owned: true };
  }
  if ("id" in source) return { core: mapCoreById(source.id), owned: true };
  return { core: mapCoreFromFd((source as { fd: number }).fd), owned: true };
}

/** Wraps an existing map with `make`, closing a handle opened here if `make` throws. */
export function openWith<M>(source: MapSource | MapCore, make: (core: MapCore) => M): M {
  const { core, owned } = resolve(source);
  try {
    return make(core);
  } catch (e) {
    if (owned) core.close();
    throw e;
  }
}

/** Creates a map of `defaultType` (unless the spec names one) and wraps it with `make`. */
export function createWith<M>(
  spec: TypedMapSpec,
  defaultType: number,
  make: (core: MapCore) => M,
  options?: CreateMapOptions,
): M {
  const core = createMapCore({ ...spec, type: spec.type ?? defaultType }, options);
  try {
    return make(core);
  } catch (e) {
    core.close();
    throw e;
  }
}

/** Throws {@link MapTypeError} unless the map is one of `types`. */
export function expectType(core: MapCore, types: readonly number[], className: string): void {
  if (!types.includes(core.info.type)) {
    throw new MapTypeError(
      `${className} needs a map of type ${types.map(mapTypeName).join(" or ")}, this is ${mapTypeName(core.info.type)}`,
      core.info.name,
    );
  }
}
