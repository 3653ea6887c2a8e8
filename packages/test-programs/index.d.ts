/** Directory holding the compiled objects for one byte order (`el` little-endian, `eb` big-endian). */
export declare function objectDir(endian?: "el" | "eb"): string;
/** Absolute path of `<name>.bpf.o`; throws with the fix if it was not built. */
export declare function objectPath(name: string, endian?: "el" | "eb"): string;
/** Path of the generated vmlinux.h the test programs are built against. */
export declare const vmlinuxHeader: string;
/** Directory of the C sources. */
export declare const sourceDir: string;
