/**
 * LabelMe (wkentaro/labelme) JSON: one file per image, usually beside it.
 *
 *   {"version": "5.2.1", "flags": {},
 *    "shapes": [{"label": "cat", "points": [[x1, y1], [x2, y2]], "shape_type": "rectangle", "group_id": null, "flags": {}}],
 *    "imagePath": "cat.jpg", "imageData": "<base64 or null>", "imageHeight": 480, "imageWidth": 640}
 *
 * Points are pixels of the image. `imagePath` is relative to the JSON file.
 * `imageData` holds the whole image file, base64-encoded, when the tool was
 * told to embed it.
 */

export const ANNOTATION_EXT = '.json';

/** The key holding the embedded image. */
export const IMAGE_DATA_KEY = 'imageData';

/** Shapes whose points outline an area: a box is their bounding box. */
export const AREA_SHAPES = ['rectangle', 'polygon', 'circle', 'mask'] as const;

/** Shapes with no area, which cannot be a detection box. */
export const NO_AREA_SHAPES = ['point', 'points', 'line', 'linestrip'] as const;

/** LabelMe before 3.x wrote no `shape_type`; its shapes were polygons. */
export const DEFAULT_SHAPE = 'polygon';

export const DETECT_HEAD_BYTES = 4096;
