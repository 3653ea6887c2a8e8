#!/usr/bin/env node
// The `ebpf` command. Subcommands arrive with the packages they drive.
process.stdout.write("ebpf: no commands yet\n");
