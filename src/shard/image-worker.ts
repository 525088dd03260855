/**
 * Worker-thread entry: answers ImageJob messages with ImageJobResult. Image
 * bytes travel back as a transferred ArrayBuffer, so nothing is copied
 * between threads.
 */
import { parentPort } from 'node:worker_threads';
import { runImageJob, type ImageJob } from './image-job.js';

interface Request {
  id: number;
  job: ImageJob;
}

const port = parentPort;
if (port) {
  port.on('message', (msg: Request) => {
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
