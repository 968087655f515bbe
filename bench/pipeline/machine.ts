import os from "node:os";
import type { Redis } from "ioredis";
import sharp from "sharp";

export type Machine = {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  sharp: string;
  libvips: string;
  redis: string;
  date: string;
};

/** What the figures were measured on, for the report's header. */
export async function machineInfo(redis: Redis): Promise<Machine> {
  const info = await redis.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    sharp: sharp.versions.sharp ?? "?",
    libvips: sharp.versions.vips,
    redis: version,
    date: new Date().toISOString(),
  };
}

export const machineLine = (m: Machine) =>
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; sharp ${m.sharp} (libvips ${m.libvips}); redis-server ${m.redis}; ${m.date}.`;
