/** Preview layer: records drawn as PNGs with their boxes, and a contact sheet. */
export { previewDataset, DEFAULT_PREVIEW_LIMIT, type PreviewOptions, type PreviewResult, type PreviewTile } from './preview.js';
export { drawDetections, drawPlaceholder, labelColour, overlaySvg, placeBox, strokeWidth, tagText, escapeXml, type PreviewBox, type DrawnBox, type Rgb } from './draw.js';
