/**
 * Worker-thread entry: answers ImageJob messages with ImageJobResult. Image
 * bytes travel back as a transferred ArrayBuffer, so nothing is copied
 * between threads.
 */
import { parentPort } from 'node:worker_threads';
import { hashFile, runImageJob, type ImageJob } from './image-job.js';

type Request = { id: number; job: ImageJob } | { id: number; hashFile: string };

const port = parentPort;
if (port) {
  port.on('message', (msg: Request) => {
    if ('hashFile' in msg) {
      hashFile(msg.hashFile).then(
        (digest) => port.postMessage({ id: msg.id, digest }),
        (err: Error) => port.postMessage({ id: msg.id, error: err.message }),
      );
      return;
    }
    void runImageJob(msg.job).then((result) => {
      if (!result.ok) {
        port.postMessage({ id: msg.id, result });
        return;
      }
      let bytes = result.bytes;
      // Transfer needs a buffer we own whole; a view into a shared pool would detach other data.
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength || !(bytes.buffer instanceof ArrayBuffer)) {
        bytes = bytes.slice();
      }
      port.postMessage({ id: msg.id, result: { ...result, bytes } }, [bytes.buffer as ArrayBuffer]);
    });
  });
}
