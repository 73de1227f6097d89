/**
 * Janus' cost, read from /proc: CPU (user + system, all threads) and memory
 * of the janus process. It is reported in the worker column, as the one
 * process that forwards media.
 */
import { rssBytes, type ServerProbe, type ServerSample } from '../probes.js';
import { processCpuSec } from './process.js';

export class JanusProbe implements ServerProbe {
  readonly description: string;
  readonly #pid: number;

  constructor(pid: number) {
    this.#pid = pid;
    this.description = `janus process ${pid} (/proc/${pid}/stat)`;
  }

  async sample(): Promise<ServerSample> {
    const cpu = processCpuSec(this.#pid);
    const rss = rssBytes(this.#pid);
    return {
      atMs: performance.now(),
      workerCpuSec: cpu === undefined ? [] : [cpu],
      ...(rss !== undefined ? { workerRssBytes: rss } : {}),
    };
  }
}
