// Node-only entry of @ebpf/btf: reading BTF from files and sysfs lives here, never in the pure entry.
export {};
