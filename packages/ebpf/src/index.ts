export { EbpfError, ParseError } from "@ebpf/errors";
