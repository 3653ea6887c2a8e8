import { closeSync, openSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { describeKernel } from "@ebpf/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ArrayMap, CgroupArray, DevMapHash, HashOfMaps, SockHash, SockMap } from "../harness.js";

const fdOf = (s: Server | Socket) => (s as unknown as { _handle: { fd: number } })._handle.fd;

describeKernel("fd-valued maps on the real kernel", () => {
  let server: Server;
  let client: Socket;
  let accepted: Socket;
  beforeAll(async () => {
    server = createServer();
    const gotConn = new Promise<Socket>((resolve) => server.once("connection", resolve));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    client = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    accepted = await gotConn;
  });
  afterAll(() => {
    client?.destroy();
    accepted?.destroy();
    server?.close();
  });

  it("hash of maps: inner map fds by key, lookup returns the inner map id", () => {
    using inner = ArrayMap.create({ valueSize: 4, maxEntries: 1 });
    using outer = HashOfMaps.create({
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      innerMap: { type: "array", keySize: 4, valueSize: 4, maxEntries: 1 },
    });
    outer.set(77, inner.fd);
    expect(outer.get(77)).toBe(inner.info().id);
    expect([...outer.keys()]).toEqual([77]);
    expect(outer.delete(77)).toBe(true);
  });

  it("devmap hash: ifindex values by key", () => {
    using m = DevMapHash.create({ keySize: 4, valueSize: 4, maxEntries: 4 });
    m.set(1, 1);
    expect(m.get(1)).toBe(1);
  });

  it("cgroup array: takes a cgroup directory fd", () => {
    const dir = openSync("/sys/fs/cgroup/unified", "r");
    try {
      using m = CgroupArray.create({ keySize: 4, valueSize: 4, maxEntries: 2 });
      m.set(0, dir);
      expect(m.delete(0)).toBe(true);
    } finally {
      closeSync(dir);
    }
  });

  it("sockmap and sockhash: established TCP sockets by fd; lookup returns the socket cookie", () => {
    using sm = SockMap.create({ keySize: 4, valueSize: 8, maxEntries: 2 });
    sm.set(0, fdOf(client));
    const cookie = sm.get(0);
    expect(cookie).toBeGreaterThan(0);
    using sh = SockHash.create({ keySize: 4, valueSize: 8, maxEntries: 2 });
    sh.set(9, fdOf(accepted));
    expect(sh.get(9)).toBeGreaterThan(0);
    expect(sh.get(9)).not.toBe(cookie);
  });
});
