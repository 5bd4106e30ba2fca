// The decode loop: only the latest request runs, at most one run is in flight, and at most one
// result is drawn per animation frame. Input events that arrive faster are coalesced.

/**
 * Runs `work(request)` for the newest request and hands the result to `done`.
 * Every request carries `seq` (which input it came from) and `t` (that input's time), so that
 * `stats` records, per drawn frame, which input reached the screen and how late.
 */
export class Runner {
  /**
   * @param {(request: object) => Promise<object>} work
   * @param {(result: object, request: object) => void} done draws the result
   * @param {(err: unknown) => void} fail
   * @param {{draws: number[][]}|null} stats where to record [seq, tInput, tDrawn] per drawn frame
   */
  constructor(work, done, fail, stats = null) {
    this.work = work;
    this.done = done;
    this.fail = fail;
    this.stats = stats;
    this.pending = null;
    this.busy = false;
    this.drewThisFrame = false;
    this.stopped = false;
  }

  /** Ask for a run; replaces any request still waiting. @param {object} request */
  request(request) {
    this.pending = request;
    this.pump();
  }

  stop() {
    this.stopped = true;
    this.pending = null;
  }

  pump() {
    if (this.stopped || this.busy || this.pending === null || this.drewThisFrame) return;
    const request = this.pending;
    this.pending = null;
    this.busy = true;
    Promise.resolve()
      .then(() => this.work(request))
      .then((result) => {
        if (this.stopped) return;
        this.done(result, request);
        if (this.stats && request.seq !== undefined) {
          const draws = this.stats.draws;
          draws.push([request.seq, request.t, performance.now()]);
          if (draws.length > 2000) draws.splice(0, draws.length - 2000);
        }
        this.drewThisFrame = true; // the next result waits for the next frame
        requestAnimationFrame(() => {
          this.drewThisFrame = false;
          this.pump();
        });
      }, (err) => this.fail(err))
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}

/**
 * The stats record of one mode, created on first use: inputs [seq, t] and draws [seq, tInput, tDrawn].
 * @param {object} live the shared LIVE object
 * @param {string} mode
 */
export function statsFor(live, mode) {
  return (live.stats[mode] ??= { inputs: [], draws: [] });
}

/**
 * Note one input event (a pointer move, a key press) in a stats record; returns its sequence number.
 * @param {{inputs: number[][]}} stats
 * @param {number} t the event's time (performance.now() clock)
 */
export function noteInput(stats, t) {
  const seq = stats.inputs.length ? stats.inputs[stats.inputs.length - 1][0] + 1 : 0;
  stats.inputs.push([seq, t]);
  if (stats.inputs.length > 2000) stats.inputs.splice(0, stats.inputs.length - 2000);
  return seq;
}
