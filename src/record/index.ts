export { crc32c, crc32cCombine, crc32cJs, maskCrc, unmaskCrc, CRC_MASK_DELTA, type Crc32c } from './crc32c.js';
export { encodeHeader, encodeFooter, frameRecord, parseHeader, HEADER_BYTES, FOOTER_BYTES, FRAME_OVERHEAD } from './frame.js';
export { RecordParser, DEFAULT_MAX_RECORD_BYTES, type RecordEntry, type ParserOptions } from './parser.js';
export { parseRecordStream } from './reader.js';
export { detectCompression, type Compression, type CompressionOption } from './compression.js';
