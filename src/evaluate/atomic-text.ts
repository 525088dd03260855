/**
 * A text output written as a stream under a temporary name next to its final
 * one and renamed into place by commit(), so a reader never sees half a file
 * and a failed run leaves nothing under the final name.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { temporaryPath } from '../io/write.js';

/** A text file written through a temporary name, renamed into place by `commit()`. */
export class AtomicText {
  private readonly temp: string;
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  bytes = 0;

  constructor(readonly path: string) {
    this.temp = temporaryPath(path);
    this.stream = createWriteStream(this.temp, { flags: 'wx' });
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.bytes += Buffer.byteLength(text);
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        this.stream.once('error', onError);
        this.stream.once('drain', () => {
          this.stream.off('error', onError);
          resolve();
        });
      });
    }
  }

  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.failure) throw this.failure;
    await rename(this.temp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.temp, { force: true });
  }
}
