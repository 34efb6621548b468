// exec, tcpSocket and httpGet probes as the kubelet runs them. exec runs inside the container
// (exec.ts: its namespaces, root, working directory, user and env), so it sees the container's /tmp
// and processes.
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { V1Container, V1Probe } from "@kubernetes/client-node";
import { spawnInContainer } from "../../lib/container/enter.ts";
import type { ProbeTarget } from "./exec.ts";

export type ProbeResult = { ok: boolean; message?: string };

function port(p: number | string, container: V1Container): number {
  if (typeof p === "number") return p;
  if (/^\d+$/.test(p)) return Number(p);
  const named = container.ports?.find((x) => x.name === p);
  if (!named) throw new Error(`port "${p}" not found in container ${container.name}`);
  return named.containerPort;
}

export async function probe(spec: V1Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (spec.timeoutSeconds ?? 1) * 1000;
  try {
    if (spec.exec) return await execProbe(spec.exec.command ?? [], target, timeoutMs);
    if (spec.tcpSocket) {
      return await tcpProbe(
        spec.tcpSocket.host || target.podIP,
        port(spec.tcpSocket.port, target.container),
        timeoutMs,
      );
    }
    if (spec.httpGet) {
      const g = spec.httpGet;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const url = `${(g.scheme ?? "HTTP").toLowerCase()}://${g.host || target.podIP}:${port(g.port, target.container)}${g.path ?? "/"}`;
      return await httpProbe(url, headers, timeoutMs);
    }
    return { ok: false, message: "unsupported probe type (grpc is not implemented by the process kubelet)" };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

function execProbe(command: string[], t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawnInContainer(t, command, { stdin: "ignore", output: "ignore" }, true);
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
      resolve({ ok: false, message: `command timed out after ${timeoutMs / 1000}s` });
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, message: `command exited with ${code}` });
    });
  });
}

function tcpProbe(host: string, p: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: p, timeout: timeoutMs });
    socket.on("connect", () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${p}: i/o timeout` });
    });
    socket.on("error", (e) => resolve({ ok: false, message: `dial tcp ${host}:${p}: ${e.message}` }));
  });
}

function httpProbe(url: string, headers: Record<string, string>, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const get = url.startsWith("https:") ? https.get : http.get;
    // The kubelet does not verify probe certificates.
    const req = get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(
        code >= 200 && code < 400
          ? { ok: true }
          : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
      );
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ ok: false, message: `Get "${url}": context deadline exceeded` });
    });
    req.on("error", (e) => resolve({ ok: false, message: `Get "${url}": ${e.message}` }));
  });
}
