/**
 * The image layer: `probe` is pure and cheap (header bytes only); `prepare`
 * pulls in sharp. Callers that only need sizes can import `./probe.js`
 * directly and never load the native module.
 */

export { displaySize, probeImage, sniffFormat, TF_DECODABLE_FORMATS, type ImageFormat, type ImageInfo } from './probe.js';
export {
  DEFAULT_JPEG_QUALITY,
  DEFAULT_MAX_PIXELS,
  prepareImage,
  type PreparedImage,
  type PrepareOptions,
  type TargetFormat,
} from './prepare.js';
