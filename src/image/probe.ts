/**
 * Header-only image probing: format, pixel size and EXIF orientation read
 * straight from the container bytes, without decoding and without Node APIs.
 *
 * The converter calls this for every image of a dataset, often on just the
 * first few kilobytes of a file, so it must be cheap and must never throw:
 * garbage or a cut-off header gives `undefined` (or, from `sniffFormat`, just
 * the format), never an exception.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp' | 'webp' | 'tiff' | 'avif' | 'heif';

export interface ImageInfo {
  format: ImageFormat;
  /** Stored (pre-orientation) pixel width. */
  width: number;
  /** Stored (pre-orientation) pixel height. */
  height: number;
  /**
   * EXIF orientation 1..8 when the file carries one (JPEG APP1, PNG eXIf,
   * TIFF IFD0; for HEIF/AVIF it is derived from an `irot` rotation).
   */
  orientation?: number;
}

/**
 * Formats TensorFlow's `tf.io.decode_image` understands. Anything else has to
 * be re-encoded before it goes into a tf.Example.
 */
export const TF_DECODABLE_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'gif', 'bmp'];

/** Width and height as a viewer shows the image, i.e. after EXIF orientation. */
export function displaySize(info: Pick<ImageInfo, 'width' | 'height' | 'orientation'>): {
  width: number;
  height: number;
} {
  // Orientations 5..8 involve a quarter turn, so the axes trade places.
  const swapped = info.orientation !== undefined && info.orientation >= 5 && info.orientation <= 8;
  return swapped ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

/** The format named by the file's magic bytes, or undefined when unrecognised. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  try {
    return sniff(bytes);
  } catch (err) {
    if (err === OUT_OF_RANGE) return undefined;
    throw err;
  }
}

/**
 * Format, size and orientation from the header. Returns undefined when the
 * format is unknown or the size cannot be read from the bytes given (use
 * `sniffFormat` to still learn the format in that case).
 */
export function probeImage(bytes: Uint8Array): ImageInfo | undefined {
  try {
    const format = sniff(bytes);
    if (format === undefined) return undefined;
    const info = PROBES[format](bytes);
    // A zero dimension is legal in a few headers (JPEG's DNL trick) but tells
    // the caller nothing usable, so it counts as "unknown".
    if (info === undefined || !(info.width > 0) || !(info.height > 0)) return undefined;
    return info;
  } catch (err) {
    // Running off the end of the buffer is the expected way for a truncated
    // header to fail; anything else would be a bug and should surface.
    if (err === OUT_OF_RANGE) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Bounds-checked reads. They throw one private sentinel so the parsers below
// can be written straight-line; the public functions turn it into undefined.

const OUT_OF_RANGE: unique symbol = Symbol('out of range');

function u8(b: Uint8Array, at: number): number {
  if (at < 0 || at >= b.length) throw OUT_OF_RANGE;
  return b[at]!;
}
function u16be(b: Uint8Array, at: number): number {
  return (u8(b, at) << 8) | u8(b, at + 1);
}
function u16le(b: Uint8Array, at: number): number {
  return u8(b, at) | (u8(b, at + 1) << 8);
}
function u32be(b: Uint8Array, at: number): number {
  return u16be(b, at) * 0x10000 + u16be(b, at + 2);
}
function u32le(b: Uint8Array, at: number): number {
  return u16le(b, at) + u16le(b, at + 2) * 0x10000;
}
function i32le(b: Uint8Array, at: number): number {
  return u32le(b, at) | 0;
}
function ascii(b: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(u8(b, at + i));
  return s;
}
/** Like `ascii` but false (not a throw) when the bytes are not there. */
function hasAscii(b: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Magic bytes.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** DIB header sizes that real BMPs use (core, OS/2 v2 short/long, v3..v5). */
const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);
/** ISO-BMFF brands (ftyp) for still AVIF and HEIF images. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

function sniff(b: Uint8Array): ImageFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  if (hasAscii(b, 0, 'GIF87a') || hasAscii(b, 0, 'GIF89a')) return 'gif';
  if (hasAscii(b, 0, 'RIFF') && hasAscii(b, 8, 'WEBP')) return 'webp';
  // "BM" alone is too weak a signature (plenty of text starts with it), so
  // the DIB header size must be one of the known values as well.
  if (hasAscii(b, 0, 'BM') && b.length >= 18 && BMP_DIB_SIZES.has(u32le(b, 14))) return 'bmp';
  // Classic TIFF (42) and BigTIFF (43) in either byte order.
  if (hasAscii(b, 0, 'II') && b.length >= 4 && (u16le(b, 2) === 42 || u16le(b, 2) === 43)) return 'tiff';
  if (hasAscii(b, 0, 'MM') && b.length >= 4 && (u16be(b, 2) === 42 || u16be(b, 2) === 43)) return 'tiff';
  if (hasAscii(b, 4, 'ftyp')) return sniffBmffBrand(b);
  return undefined;
}

/**
 * AVIF and HEIF share the HEIF container; the brands in `ftyp` tell them
 * apart. A generic major brand (mif1) defers to the compatible brands.
 */
function sniffBmffBrand(b: Uint8Array): ImageFormat | undefined {
  const boxSize = u32be(b, 0);
  const major = ascii(b, 8, 4);
  const brands = [major];
  const end = Math.min(boxSize, b.length);
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(b, at, 4));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return 'avif';
  if (brands.some((x) => HEIF_BRANDS.has(x))) return 'heif';
  return undefined;
}

// ---------------------------------------------------------------------------
// Per-format header parsers. Each may throw OUT_OF_RANGE on short input.

type Probe = (b: Uint8Array) => ImageInfo | undefined;

const PROBES: Record<ImageFormat, Probe> = {
  jpeg: probeJpeg,
  png: probePng,
  gif: (b) => ({ format: 'gif', width: u16le(b, 6), height: u16le(b, 8) }),
  bmp: probeBmp,
  webp: probeWebp,
  tiff: probeTiff,
  avif: (b) => probeBmff(b, 'avif'),
  heif: (b) => probeBmff(b, 'heif'),
};

// JPEG markers (ITU T.81 table B.1).
const JPEG_SOS = 0xda;
const JPEG_EOI = 0xd9;
const JPEG_APP1 = 0xe1;
/** C4 (DHT), C8 (JPG, reserved) and CC (DAC) sit in the SOF range but are not frames. */
const JPEG_NOT_SOF = new Set([0xc4, 0xc8, 0xcc]);

function isStandaloneJpegMarker(m: number): boolean {
  // SOI, RSTn and TEM carry no length field.
  return m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01;
}

function probeJpeg(b: Uint8Array): ImageInfo | undefined {
  let orientation: number | undefined;
  let at = 2; // after SOI
  for (;;) {
    if (u8(b, at) !== 0xff) return undefined; // lost sync: not a well-formed marker stream
    // Any number of 0xFF fill bytes may precede a marker code.
    while (u8(b, at) === 0xff) at++;
    const marker = u8(b, at);
    at++;
    if (isStandaloneJpegMarker(marker)) continue;
    // SOF must come before the scan data; reaching SOS or EOI first means
    // there is no frame header to read.
    if (marker === JPEG_SOS || marker === JPEG_EOI || marker === 0x00) return undefined;
    const length = u16be(b, at);
    if (length < 2) return undefined;
    const body = at + 2;
    if (marker >= 0xc0 && marker <= 0xcf && !JPEG_NOT_SOF.has(marker)) {
      // SOFn body: precision (1), number of lines (2), samples per line (2).
      const height = u16be(b, body + 1);
      const width = u16be(b, body + 3);
      return withOrientation({ format: 'jpeg', width, height }, orientation);
    }
    if (marker === JPEG_APP1 && orientation === undefined && hasAscii(b, body, 'Exif\0\0')) {
      // The EXIF payload is a little TIFF file; offsets inside it are
      // relative to its own header, so parse a view of just that segment.
      const end = Math.min(body + length - 2, b.length);
      orientation = readTiffOrientation(b.subarray(body + 6, end));
    }
    at = body + length - 2;
  }
}

/** PNG chunk types we look at (ISO 15948 + the 2017 eXIf extension). */
function probePng(b: Uint8Array): ImageInfo | undefined {
  if (!hasAscii(b, 12, 'IHDR')) return undefined;
  const info: ImageInfo = { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  // eXIf must precede IDAT, so stop there. A truncated buffer simply ends the
  // walk without an orientation: the size is already known.
  let at = 8;
  try {
    while (at + 8 <= b.length) {
      const length = u32be(b, at);
      const type = ascii(b, at + 4, 4);
      if (type === 'IDAT' || type === 'IEND') break;
      if (type === 'eXIf') {
        const end = Math.min(at + 8 + length, b.length);
        return withOrientation(info, readTiffOrientation(b.subarray(at + 8, end)));
      }
      at += 12 + length; // length + type + data + CRC
    }
  } catch (err) {
    if (err !== OUT_OF_RANGE) throw err;
  }
  return info;
}

function probeBmp(b: Uint8Array): ImageInfo | undefined {
  const dibSize = u32le(b, 14);
  if (dibSize === 12) {
    // BITMAPCOREHEADER (OS/2 1.x): unsigned 16-bit dimensions.
    return { format: 'bmp', width: u16le(b, 18), height: u16le(b, 20) };
  }
  // BITMAPINFOHEADER and later: signed 32-bit; a negative height marks a
  // top-down bitmap, which is the same picture size.
  return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

function probeWebp(b: Uint8Array): ImageInfo | undefined {
  const chunk = ascii(b, 12, 4);
  const data = 20;
  if (chunk === 'VP8 ') {
    // Lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit sizes
    // (the top two bits are a scaling hint, not part of the size).
    if (u8(b, data + 3) !== 0x9d || u8(b, data + 4) !== 0x01 || u8(b, data + 5) !== 0x2a) return undefined;
    return { format: 'webp', width: u16le(b, data + 6) & 0x3fff, height: u16le(b, data + 8) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    // Lossless: signature byte 0x2F, then width-1 and height-1 as 14-bit fields.
    if (u8(b, data) !== 0x2f) return undefined;
    const bits = u32le(b, data + 1);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    // Extended: flags (1) + reserved (3), then 24-bit canvas width-1, height-1.
    const width = (u8(b, data + 4) | (u8(b, data + 5) << 8) | (u8(b, data + 6) << 16)) + 1;
    const height = (u8(b, data + 7) | (u8(b, data + 8) << 8) | (u8(b, data + 9) << 16)) + 1;
    return { format: 'webp', width, height };
  }
  return undefined;
}

// TIFF tags (TIFF 6.0 section 8 / EXIF 2.3).
const TAG_IMAGE_WIDTH = 0x0100;
const TAG_IMAGE_LENGTH = 0x0101;
const TAG_ORIENTATION = 0x0112;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;

/** IFD0 entries as tag → value, for SHORT/LONG single values only. */
function readIfd0(t: Uint8Array): Map<number, number> | undefined {
  const little = hasAscii(t, 0, 'II');
  if (!little && !hasAscii(t, 0, 'MM')) return undefined;
  const r16 = little ? u16le : u16be;
  const r32 = little ? u32le : u32be;
  // BigTIFF (43) uses 8-byte offsets; we only report its format.
  if (r16(t, 2) !== 42) return undefined;
  const ifd = r32(t, 4);
  const count = r16(t, ifd);
  const values = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = r16(t, entry);
    const type = r16(t, entry + 2);
    const n = r32(t, entry + 4);
    if (n !== 1) continue;
    // A single SHORT sits left-justified in the 4-byte value field.
    if (type === TIFF_SHORT) values.set(tag, r16(t, entry + 8));
    else if (type === TIFF_LONG) values.set(tag, r32(t, entry + 8));
  }
  return values;
}

function readTiffOrientation(t: Uint8Array): number | undefined {
  try {
    return validOrientation(readIfd0(t)?.get(TAG_ORIENTATION));
  } catch (err) {
    // A damaged EXIF block should not hide the frame size we can still read.
    if (err === OUT_OF_RANGE) return undefined;
    throw err;
  }
}

function probeTiff(b: Uint8Array): ImageInfo | undefined {
  const ifd = readIfd0(b);
  if (ifd === undefined) return undefined;
  const width = ifd.get(TAG_IMAGE_WIDTH);
  const height = ifd.get(TAG_IMAGE_LENGTH);
  if (width === undefined || height === undefined) return undefined;
  return withOrientation({ format: 'tiff', width, height }, validOrientation(ifd.get(TAG_ORIENTATION)));
}

function validOrientation(v: number | undefined): number | undefined {
  return v !== undefined && v >= 1 && v <= 8 ? v : undefined;
}

function withOrientation(info: ImageInfo, orientation: number | undefined): ImageInfo {
  if (orientation !== undefined) info.orientation = orientation;
  return info;
}

// ---------------------------------------------------------------------------
// HEIF / AVIF (ISO/IEC 23008-12 on ISO-BMFF boxes). The size lives in the
// `ispe` property associated with the primary item:
//   meta → pitm (primary item id), iprp → ipco (property list) + ipma
//   (item → 1-based property indices).

interface Box {
  type: string;
  /** Start of the payload. */
  body: number;
  /** End of the box (clamped to the buffer). */
  end: number;
}

function* boxes(b: Uint8Array, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    let body = at + 8;
    if (size === 1) {
      // 64-bit largesize; anything beyond 2^53 is nonsense for a header walk.
      size = u32be(b, at + 8) * 0x1_0000_0000 + u32be(b, at + 12);
      body = at + 16;
    } else if (size === 0) {
      size = end - at; // box runs to the end of its container
    }
    if (size < body - at) return;
    yield { type, body, end: Math.min(at + size, end) };
    at += size;
  }
}

function findBox(b: Uint8Array, start: number, end: number, type: string): Box | undefined {
  for (const box of boxes(b, start, end)) if (box.type === type) return box;
  return undefined;
}

function probeBmff(b: Uint8Array, format: 'avif' | 'heif'): ImageInfo | undefined {
  const meta = findBox(b, 0, b.length, 'meta');
  if (meta === undefined) return undefined;
  const metaChildren = meta.body + 4; // meta is a FullBox: version + flags first
  const pitm = findBox(b, metaChildren, meta.end, 'pitm');
  const iprp = findBox(b, metaChildren, meta.end, 'iprp');
  if (iprp === undefined) return undefined;
  const ipco = findBox(b, iprp.body, iprp.end, 'ipco');
  if (ipco === undefined) return undefined;
  const properties = [...boxes(b, ipco.body, ipco.end)];

  let primary: number | undefined;
  if (pitm !== undefined) primary = u8(b, pitm.body) === 0 ? u16be(b, pitm.body + 4) : u32be(b, pitm.body + 4);
  const ipma = findBox(b, iprp.body, iprp.end, 'ipma');
  const associated = primary !== undefined && ipma !== undefined ? primaryProperties(b, ipma, primary) : undefined;
  // Without associations, fall back to the first ispe: right for simple files.
  const candidates = associated ? associated.map((i) => properties[i - 1]).filter((p) => p !== undefined) : properties;

  let width: number | undefined;
  let height: number | undefined;
  let rotation: number | undefined;
  let mirrored = false;
  for (const p of candidates) {
    if (p.type === 'ispe' && width === undefined) {
      width = u32be(b, p.body + 4);
      height = u32be(b, p.body + 8);
    } else if (p.type === 'irot') {
      rotation = u8(b, p.body) & 3;
    } else if (p.type === 'imir') {
      mirrored = true;
    }
  }
  if (width === undefined || height === undefined) return undefined;
  // irot turns anticlockwise in quarter turns. Map it to the EXIF value that
  // asks for the same correction. With a mirror as well the combined EXIF
  // value depends on the order of operations, so we leave it unreported.
  const orientation = rotation !== undefined && !mirrored ? IROT_TO_EXIF[rotation] : undefined;
  return withOrientation({ format, width, height }, orientation);
}

/** irot angle (×90° anticlockwise) → EXIF orientation with the same rotation. */
const IROT_TO_EXIF = [1, 8, 3, 6];

function primaryProperties(b: Uint8Array, ipma: Box, item: number): number[] | undefined {
  const version = u8(b, ipma.body);
  const flags = u8(b, ipma.body + 3);
  let at = ipma.body + 4;
  const entries = u32be(b, at);
  at += 4;
  for (let e = 0; e < entries && at < ipma.end; e++) {
    const id = version < 1 ? u16be(b, at) : u32be(b, at);
    at += version < 1 ? 2 : 4;
    const n = u8(b, at);
    at += 1;
    const indices: number[] = [];
    for (let k = 0; k < n; k++) {
      // The top bit is "essential"; the rest is the 1-based property index.
      if (flags & 1) {
        indices.push(u16be(b, at) & 0x7fff);
        at += 2;
      } else {
        indices.push(u8(b, at) & 0x7f);
        at += 1;
      }
    }
    if (id === item) return indices;
  }
  return undefined;
}
