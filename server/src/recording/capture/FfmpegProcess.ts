/**
 * One ffmpeg process under `nice`: started with an argument list that never
 * holds tokens or keys, stderr kept to its last few kilobytes for diagnostics,
 * stopped with SIGINT so it writes the container's trailer (a finalized,
 * playable file), killed only if it does not exit in time. (SIGINT is only
 * seen between packets: an ffmpeg waiting on a silent network input must be
 * woken up by its input ending; see TrackSegment.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { TypedEmitter } from '@huizhen/protocol';

export interface FfmpegOptions {
  ffmpegPath: string;
  /** `nice` increment: ffmpeg yields the CPU to the media worker and signaling. */
  niceness: number;
  args: readonly string[];
}

export interface FfmpegEvents {
  /** The process ended; `requested` tells whether stop() asked it to. */
  exit: (result: { code: number | null; signal: NodeJS.Signals | null; requested: boolean; stderr: string }) => void;
}

const STDERR_KEEP = 4096;
const STOP_GRACE_MS = 8000;

export class FfmpegProcess extends TypedEmitter<FfmpegEvents> {
  readonly #child: ChildProcess;
  #stderr = '';
  #requested = false;
  #stopping: Promise<void> | undefined;
  readonly exited: Promise<void>;

  constructor(options: FfmpegOptions) {
    super();
    this.#child = spawn('nice', ['-n', String(options.niceness), options.ffmpegPath, ...options.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        this.emit('exit', { code, signal, requested: this.#requested, stderr: this.#stderr });
        resolve();
      };
      this.#child.once('error', (err) => {
        this.#stderr += `\n${err.message}`;
        finish(null, null);
      });
      this.#child.once('exit', finish);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The coming exit is asked for (the input is being ended), not a crash. */
  expectExit(): void {
    this.#requested = true;
  }

  /** Resolves true if the process exits within `ms`. */
  async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /**
   * Asks ffmpeg to finish its file; resolves once it has exited. Once only: a
   * second SIGINT makes ffmpeg quit without writing the container's trailer.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.exited;
      this.#requested = true;
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }

  /** Kills at once (a crash test, or the process is shutting down hard). */
  kill(): void {
    this.#child.kill('SIGKILL');
  }
}
