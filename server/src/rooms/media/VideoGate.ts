/**
 * Whether one direction of one participant's link carries video, with the
 * automatic fallback to audio only and the way back (pure; LinkMonitor feeds
 * it a sample every couple of seconds and carries out what it says).
 *
 *   video ──(video does not fit, ENTER_AFTER samples)──▶ audioOnly
 *   audioOnly ──(retry delay passed, audio healthy)──▶ trial (video on, lowest layer)
 *   trial ──(fits PASS_AFTER samples)──▶ video      (announced: audioOnly false)
 *   trial ──(does not fit FAIL_AFTER samples, or TRIAL_MAX_MS; TRIAL_CLIMB_MAX_MS while climbing)──▶ audioOnly (delay doubles)
 *
 * A trial is how a recovered link is found at all: with video paused, only
 * audio flows, and no bandwidth estimate grows past what is being sent.
 */

/** Samples in a row that say video does not fit before video stops (2 × 2 s). */
export const ENTER_AFTER = 2;
/** First wait before trying video again; doubled after each failed trial, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 8_000;
/**
 * Longest wait between trials. Each failed trial costs a few seconds of broken
 * audio on a link that is still weak, so they must not be frequent; 30 s also
 * bounds how long a recovered link waits for its video.
 */
export const RETRY_MAX_MS = 30_000;
/** Samples in a row a trial must fit to bring video back (4 s of video at the lowest layer without trouble). */
export const PASS_AFTER = 2;
/** Samples in a row that end a trial as failed (audio suffers meanwhile: give up quickly). */
export const FAIL_AFTER = 2;
/** A trial that neither passed nor failed by then counts as failed ... */
export const TRIAL_MAX_MS = 12_000;
/**
 * ... unless the link is still being found (see GateInput.climbing): after
 * minutes of audio only a sender's estimate climbs from about the audio's
 * bitrate at some 8 % a second, which takes 15–20 s to reach a video layer.
 */
export const TRIAL_CLIMB_MAX_MS = 30_000;
/** Samples in a row that must fit before a direction counts as proven to carry video (6 s). */
export const PROVEN_AFTER = 3;

export type GateState = 'video' | 'audioOnly' | 'trial';

export interface GateInput {
  now: number;
  /** Video fits in this direction now (undefined: nothing measured this time). */
  fits: boolean | undefined;
  /** The audio-only link itself is healthy (low loss, sane round trip), so a trial may start. */
  healthy: boolean;
  /** Nothing decided yet, but the link is being found (a bandwidth estimate still growing): a trial goes on. */
  climbing?: boolean;
}

export interface GateChange {
  /** Whether video should flow now (true in 'video' and during a 'trial'). */
  sendVideo: boolean;
  /** Set when the announced audio-only state changes. */
  announce?: boolean;
  state: GateState;
}

export class VideoGate {
  #state: GateState = 'video';
  #bad = 0;
  #good = 0;
  #retryMs = RETRY_FIRST_MS;
  #nextTrialAt = 0;
  #trialStarted = 0;
  #fitRun = 0;
  #proven = false;

  get state(): GateState {
    return this.#state;
  }

  /** What others were told: audio only, until a trial has passed. */
  get audioOnly(): boolean {
    return this.#state !== 'video';
  }

  /**
   * Whether video has been seen to fit in this direction at all: PROVEN_AFTER
   * fitting samples in a row, or a passed trial. Until then a new link's video
   * is on trust.
   */
  get proven(): boolean {
    return this.#proven;
  }

  /**
   * Stops video on a link that has not proven it carries it, because the
   * other direction just showed that it cannot (a mobile or ADSL uplink is
   * rarely wider than its downlink). Video comes back through a trial, as
   * after any stop. Undefined when nothing changes.
   */
  holdUnproven(now: number): GateChange | undefined {
    if (this.#state !== 'video' || this.#proven) return undefined;
    this.#bad = 0;
    this.#nextTrialAt = now + this.#retryMs;
    return this.#go('audioOnly', true);
  }

  /** Takes one sample; returns what to do when the state changed, else undefined. */
  push({ now, fits, healthy, climbing = false }: GateInput): GateChange | undefined {
    switch (this.#state) {
      case 'video':
        if (fits === undefined) return undefined;
        this.#fitRun = fits ? this.#fitRun + 1 : 0;
        if (this.#fitRun >= PROVEN_AFTER) this.#proven = true;
        this.#bad = fits ? 0 : this.#bad + 1;
        if (this.#bad < ENTER_AFTER) return undefined;
        this.#bad = 0;
        this.#nextTrialAt = now + this.#retryMs;
        return this.#go('audioOnly', true);
      case 'audioOnly':
        if (now < this.#nextTrialAt || !healthy) return undefined;
        this.#trialStarted = now;
        this.#good = 0;
        this.#bad = 0;
        return this.#go('trial');
      case 'trial': {
        if (fits === true) {
          this.#good++;
          this.#bad = 0;
        } else if (fits === false) {
          this.#bad++;
          this.#good = 0;
        }
        if (this.#good >= PASS_AFTER) {
          this.#retryMs = RETRY_FIRST_MS;
          this.#proven = true;
          return this.#go('video', false);
        }
        // A link still being found, or one that just began to fit, gets the longer bound.
        const maxMs = (climbing && fits === undefined) || fits === true ? TRIAL_CLIMB_MAX_MS : TRIAL_MAX_MS;
        if (this.#bad >= FAIL_AFTER || now - this.#trialStarted >= maxMs) {
          this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
          this.#nextTrialAt = now + this.#retryMs;
          this.#bad = 0;
          return this.#go('audioOnly');
        }
        return undefined;
      }
    }
  }

  #go(state: GateState, announce?: boolean): GateChange {
    this.#state = state;
    return { state, sendVideo: state !== 'audioOnly', ...(announce !== undefined ? { announce } : {}) };
  }
}
